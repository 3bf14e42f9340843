// The chat store: agents, chats, messages and tool invocations in SQLite (schema version 2, with
// the migration from version 1), read back as written, and what a restart does to turns that
// were under way.

#include <catch2/catch.hpp>

#include "chats/chat_records.hpp"
#include "chats/chat_store.hpp"
#include "local_runtime_fixture.hpp"
#include "store/sqlite_database.hpp"

using nlohmann::json;
using namespace infsh::local;
using infsh::local::testing::TempDir;

namespace {

ChatRecord make_chat(const std::string& id, ChatStatus status = ChatStatus::idle) {
  ChatRecord chat;
  chat.id = id;
  chat.name = "chat " + id;
  chat.status = status;
  chat.agent_config = {{"core_app", {{"ref", "infsh/scripted-llm"}}}};
  chat.created_at = chat.updated_at = "2026-01-01T00:00:00.000Z";
  return chat;
}

MessageRecord make_message(const std::string& id, const std::string& chat_id, std::int64_t order,
                           MessageRole role, MessageStatus status) {
  MessageRecord message;
  message.id = id;
  message.chat_id = chat_id;
  message.order = order;
  message.role = role;
  message.status = status;
  message.text = "text of " + id;
  message.created_at = message.updated_at = "2026-01-01T00:00:00.000Z";
  return message;
}

ToolInvocationRecord make_invocation(const std::string& id, const MessageRecord& message,
                                     const std::string& type, InvocationStatus status) {
  ToolInvocationRecord invocation;
  invocation.id = id;
  invocation.chat_id = message.chat_id;
  invocation.message_id = message.id;
  invocation.call_id = "call_" + id;
  invocation.type = type;
  invocation.name = "tool_" + type;
  invocation.arguments = {{"city", "Paris"}};
  invocation.status = status;
  invocation.created_at = invocation.updated_at = "2026-01-01T00:00:00.000Z";
  return invocation;
}

}  // namespace

TEST_CASE("chats, messages and tool invocations are read back as they were written") {
  TempDir dir;
  Database db((dir.path() / "state.db").string());
  ChatStore store(db);

  ChatRecord chat = make_chat("chat_aaaaaaaabbbbbbbbcccc");
  chat.context = {{"user", "ada"}};
  chat.agent_data = {{"memory", {{"k", "v"}}}};
  chat.turn = TurnState{"msg_u", "msg_a", 3};
  store.save_chat(chat);
  MessageRecord user = make_message("msg_u", chat.id, 1, MessageRole::user, MessageStatus::ready);
  user.attachments = json::array({{{"uri", "https://x/y.png"}, {"content_type", "image/png"}}});
  MessageRecord assistant =
      make_message("msg_a", chat.id, 2, MessageRole::assistant, MessageStatus::ready);
  store.save_message(assistant);  // out of order on purpose
  store.save_message(user);
  store.save_invocation(
      make_invocation("tinv_1", assistant, "client", InvocationStatus::awaiting_input));
  store.save_invocation(make_invocation("tinv_2", assistant, "app", InvocationStatus::completed));

  const auto found = store.find_chat(chat.id);
  REQUIRE(found);
  CHECK(chat_to_json(*found) == chat_to_json(chat));
  // The short id is a prefix of the id, and finds the chat too.
  CHECK(short_id_of(chat.id) == "chat_aaaaaaaa");
  REQUIRE(store.find_chat("chat_aaaaaaaa"));
  CHECK(store.find_chat("chat_aaaaaaaa")->id == chat.id);
  CHECK_FALSE(store.find_chat("chat_zzzzzzzz"));

  const auto messages = store.load_messages(chat.id);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].id == "msg_u");
  CHECK(messages[0].attachments == user.attachments);
  CHECK(messages[1].id == "msg_a");
  REQUIRE(messages[1].invocations.size() == 2);
  CHECK(messages[1].invocations[0].id == "tinv_1");
  CHECK(messages[1].invocations[0].arguments == json{{"city", "Paris"}});
  CHECK(messages[1].invocations[1].status == InvocationStatus::completed);

  const auto located = store.locate_invocation(short_id_of("tinv_1"));
  REQUIRE(located);
  CHECK(located->first == chat.id);
  CHECK(located->second == "tinv_1");
  CHECK(store.locate_message("msg_a")->first == chat.id);

  store.delete_chat(chat.id);
  CHECK_FALSE(store.find_chat(chat.id));
  CHECK(store.load_messages(chat.id).empty());
  CHECK_FALSE(store.locate_invocation("tinv_1"));
}

TEST_CASE("chats are listed newest first, a page at a time, and filtered") {
  TempDir dir;
  Database db((dir.path() / "state.db").string());
  ChatStore store(db);
  for (int i = 0; i < 5; ++i) {
    ChatRecord chat = make_chat("chat_" + std::to_string(i) + "0000000000");
    chat.name = i % 2 == 0 ? "Even " + std::to_string(i) : "odd " + std::to_string(i);
    if (i == 4) chat.parent_id = "chat_00000000000";
    store.save_chat(chat);
  }
  ChatStore::ChatQuery query;
  query.limit = 2;
  auto page = store.list_chats(query);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].name == "Even 4");
  CHECK(page.items[1].name == "odd 3");
  CHECK(page.total == 5);
  REQUIRE(page.next_cursor);
  query.before = page.next_cursor;
  page = store.list_chats(query);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].name == "Even 2");
  query.before = page.next_cursor;
  page = store.list_chats(query);
  REQUIRE(page.items.size() == 1);
  CHECK_FALSE(page.next_cursor);

  ChatStore::ChatQuery search;
  search.name_contains = "EVEN";
  CHECK(store.list_chats(search).total == 3);
  search.parent_id = "";  // top-level only
  CHECK(store.list_chats(search).total == 2);
}

TEST_CASE("agents are kept with their config and removed when deleted") {
  TempDir dir;
  Database db((dir.path() / "state.db").string());
  ChatStore store(db);
  AgentRecord agent;
  agent.id = "agent_123456789";
  agent.namespace_name = "acme";
  agent.name = "helper";
  agent.version_id = "agv_1";
  agent.config = {{"system_prompt", "be kind"}, {"core_app", {{"ref", "infsh/scripted-llm"}}}};
  agent.created_at = agent.updated_at = "2026-01-01T00:00:00.000Z";
  store.save_agent(agent);
  agent.config["system_prompt"] = "be brief";
  store.save_agent(agent);
  auto agents = store.load_agents();
  REQUIRE(agents.size() == 1);
  CHECK(agents[0].config.at("system_prompt") == "be brief");
  CHECK(to_agent_dto(agents[0]).at("version").at("system_prompt") == "be brief");
  store.delete_agent(agent.id);
  CHECK(store.load_agents().empty());
}

TEST_CASE("a database of schema version 1 is migrated to version 2 with its tasks kept") {
  TempDir dir;
  const std::string path = (dir.path() / "state.db").string();
  {
    Database db(path);
    auto lock = db.lock();
    // What a runtime before chats left: version 1, a task, no chat tables.
    db.exec(
        "DROP TABLE tool_invocations; DROP TABLE chat_messages; DROP TABLE chats; "
        "DROP TABLE agents; PRAGMA user_version = 1;");
    db.exec(
        "INSERT INTO tasks (id, status, app_id, created_at, updated_at, dto) VALUES "
        "('task_1', 10, 'infsh/echo', 'x', 'x', '{}')");
  }
  Database db(path);
  ChatStore store(db);
  store.save_chat(make_chat("chat_migrated0000"));
  CHECK(store.find_chat("chat_migrated0000"));
  auto lock = db.lock();
  auto& version = db.statement("PRAGMA user_version");
  REQUIRE(version.step());
  CHECK(version.integer(0) == kSchemaVersion);
  CHECK(kSchemaVersion == 2);
  version.reset();
  auto& tasks = db.statement("SELECT count(*) FROM tasks");
  REQUIRE(tasks.step());
  CHECK(tasks.integer(0) == 1);
  tasks.reset();
}

TEST_CASE("after a restart a running turn fails, and invocations that wait still wait") {
  TempDir dir;
  Database db((dir.path() / "state.db").string());
  ChatStore store(db);

  // A chat whose core was running: its step message fails, the chat is idle again.
  ChatRecord running = make_chat("chat_running00000", ChatStatus::busy);
  running.turn = TurnState{"msg_r1", "msg_r2", 1};
  store.save_chat(running);
  store.save_message(
      make_message("msg_r1", running.id, 1, MessageRole::user, MessageStatus::ready));
  store.save_message(
      make_message("msg_r2", running.id, 2, MessageRole::assistant, MessageStatus::pending));

  // A chat waiting for a client tool, an approval and a hook, while an app tool ran.
  ChatRecord waiting = make_chat("chat_waiting00000", ChatStatus::awaiting_input);
  waiting.turn = TurnState{"msg_w1", "msg_w2", 1};
  store.save_chat(waiting);
  store.save_message(
      make_message("msg_w1", waiting.id, 1, MessageRole::user, MessageStatus::ready));
  const MessageRecord step =
      make_message("msg_w2", waiting.id, 2, MessageRole::assistant, MessageStatus::ready);
  store.save_message(step);
  store.save_invocation(make_invocation("tinv_c", step, "client", InvocationStatus::awaiting_input));
  store.save_invocation(
      make_invocation("tinv_p", step, "client", InvocationStatus::awaiting_approval));
  ToolInvocationRecord hook = make_invocation("tinv_h", step, "hook", InvocationStatus::in_progress);
  hook.callback_token = "token";
  store.save_invocation(hook);
  store.save_invocation(make_invocation("tinv_a", step, "app", InvocationStatus::in_progress));

  // A chat at rest with a queued message is left as it is.
  store.save_chat(make_chat("chat_idle00000000"));
  store.save_message(
      make_message("msg_q", "chat_idle00000000", 1, MessageRole::user, MessageStatus::queued));

  const auto changed = store.recover_interrupted_turns("2026-01-02T00:00:00.000Z");
  CHECK(changed.size() == 2);

  const auto after_running = store.find_chat(running.id);
  CHECK(after_running->status == ChatStatus::idle);
  CHECK_FALSE(after_running->turn);
  const auto running_messages = store.load_messages(running.id);
  CHECK(running_messages[0].status == MessageStatus::ready);
  CHECK(running_messages[1].status == MessageStatus::failed);
  CHECK(running_messages[1].error == "the runtime restarted during the turn");
  CHECK(to_message_dto(running_messages[1]).at("content").back().at("error") ==
        "the runtime restarted during the turn");

  const auto after_waiting = store.find_chat(waiting.id);
  CHECK(after_waiting->status == ChatStatus::awaiting_input);
  REQUIRE(after_waiting->turn);
  CHECK(after_waiting->turn->assistant_message_id == "msg_w2");
  const auto invocations = store.load_messages(waiting.id)[1].invocations;
  REQUIRE(invocations.size() == 4);
  CHECK(invocations[0].status == InvocationStatus::awaiting_input);
  CHECK(invocations[1].status == InvocationStatus::awaiting_approval);
  CHECK(invocations[2].status == InvocationStatus::in_progress);
  CHECK(invocations[3].status == InvocationStatus::failed);
  CHECK(invocations[3].result == "the runtime restarted during the turn");

  CHECK(store.chats_with_queued_messages() == std::vector<std::string>{"chat_idle00000000"});
  CHECK(store.find_chat("chat_idle00000000")->status == ChatStatus::idle);
}

TEST_CASE("DTOs carry what the official clients read") {
  MessageRecord message =
      make_message("msg_abcdefghijklmnop", "chat_1", 7, MessageRole::assistant,
                   MessageStatus::ready);
  message.task_id = "task_1";
  message.reasoning = "thinking";
  ToolInvocationRecord invocation =
      make_invocation("tinv_1", message, "client", InvocationStatus::awaiting_input);
  message.invocations.push_back(invocation);
  const json dto = to_message_dto(message);
  CHECK(dto.at("id") == "msg_abcdefghijklmnop");
  CHECK(dto.at("short_id") == "msg_abcdefgh");
  CHECK(dto.at("chat_id") == "chat_1");
  CHECK(dto.at("order") == 7);
  CHECK(dto.at("status") == "ready");
  CHECK(dto.at("role") == "assistant");
  CHECK(dto.at("task_id") == "task_1");
  CHECK(dto.at("content").at(0) == json{{"type", "reasoning"}, {"text", "thinking"}});
  CHECK(dto.at("content").at(1).at("type") == "text");
  CHECK(dto.at("content").at(1).at("tool_calls").at(0).at("function").at("name") ==
        "tool_client");
  const json& tool = dto.at("tool_invocations").at(0);
  CHECK(tool.at("id") == "tinv_1");
  CHECK(tool.at("type") == "client");
  CHECK(tool.at("status") == "awaiting_input");
  CHECK(tool.at("function") == json{{"name", "tool_client"}, {"arguments", {{"city", "Paris"}}}});
  CHECK(tool.at("tool_invocation_id") == "call_tinv_1");
  CHECK(tool.at("chat_message_id") == message.id);

  ChatRecord chat = make_chat("chat_1");
  const json chat_dto = to_chat_dto(chat, {&message});
  CHECK(chat_dto.at("status") == "idle");
  CHECK(chat_dto.at("chat_messages").size() == 1);
  CHECK(chat_dto.at("agent_data") ==
        json{{"plan_steps", json::array()},
             {"memory", json::object()},
             {"always_allowed_tools", json::array()}});
  CHECK(to_chat_status_dto(chat) ==
        json{{"id", "chat_1"}, {"status", "idle"}, {"updated_at", chat.updated_at}});
}
