#include "chats/chat_store.hpp"

#include <unordered_map>

#include "common/json_parse.hpp"
#include "store/sqlite_database.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

using nlohmann::json;

namespace {

// The chat holding the row of `table` (chat_messages, tool_invocations) with this id or short id,
// and the row's full id.
std::optional<std::pair<std::string, std::string>> locate(Database& db, const std::string& table,
                                                          const std::string& id_or_short_id) {
  auto lock = db.lock();
  auto& select = db.statement("SELECT chat_id, id FROM " + table +
                              " WHERE id = ?1 OR short_id = ?1 ORDER BY id = ?1 DESC LIMIT 1");
  select.bind(1, id_or_short_id);
  if (!select.step()) return std::nullopt;
  auto found = std::make_pair(select.text(0), select.text(1));
  select.reset();
  return found;
}

}  // namespace

bool waits_for_callback(const ToolInvocationRecord& invocation) noexcept {
  return invocation.status == InvocationStatus::in_progress && invocation.type == "hook" &&
         !invocation.callback_token.empty();
}

ChatStore::ChatStore(Database& db) : db_(db) {}

// ---- agents -------------------------------------------------------------------------------------

std::vector<AgentRecord> ChatStore::load_agents() const {
  std::vector<AgentRecord> agents;
  auto lock = db_.lock();
  auto& select = db_.statement("SELECT record FROM agents ORDER BY seq");
  while (select.step()) agents.push_back(agent_from_json(json::parse(select.text(0))));
  return agents;
}

void ChatStore::save_agent(const AgentRecord& agent) {
  auto lock = db_.lock();
  auto& upsert = db_.statement(
      "INSERT INTO agents (id, short_id, namespace, name, ad_hoc, record) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name, "
      "ad_hoc = excluded.ad_hoc, record = excluded.record");
  upsert.bind(1, agent.id).bind(2, short_id_of(agent.id)).bind(3, agent.namespace_name);
  upsert.bind(4, agent.name).bind(5, std::int64_t{agent.ad_hoc ? 1 : 0});
  upsert.bind(6, common::compact_json(agent_to_json(agent))).run();
}

void ChatStore::delete_agent(const std::string& id) {
  auto lock = db_.lock();
  db_.statement("DELETE FROM agents WHERE id = ?1").bind(1, id).run();
}

// ---- chats --------------------------------------------------------------------------------------

void ChatStore::save_chat(const ChatRecord& chat) {
  auto lock = db_.lock();
  auto& upsert = db_.statement(
      "INSERT INTO chats (id, short_id, parent_id, status, record) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record");
  upsert.bind(1, chat.id).bind(2, short_id_of(chat.id));
  if (chat.parent_id.empty()) {
    upsert.bind_null(3);
  } else {
    upsert.bind(3, chat.parent_id);
  }
  upsert.bind(4, to_string(chat.status)).bind(5, common::compact_json(chat_to_json(chat))).run();
}

std::optional<ChatRecord> ChatStore::find_chat(const std::string& id_or_short_id) const {
  auto lock = db_.lock();
  auto& select = db_.statement(
      "SELECT record FROM chats WHERE id = ?1 OR short_id = ?1 ORDER BY id = ?1 DESC LIMIT 1");
  select.bind(1, id_or_short_id);
  if (!select.step()) return std::nullopt;
  ChatRecord chat = chat_from_json(json::parse(select.text(0)));
  select.reset();
  return chat;
}

void ChatStore::delete_chat(const std::string& id) {
  auto lock = db_.lock();
  Transaction transaction(db_);
  db_.statement("DELETE FROM tool_invocations WHERE chat_id = ?1").bind(1, id).run();
  db_.statement("DELETE FROM chat_messages WHERE chat_id = ?1").bind(1, id).run();
  db_.statement("DELETE FROM chats WHERE id = ?1").bind(1, id).run();
  transaction.commit();
}

std::vector<std::string> ChatStore::unfinished_chats() const {
  std::vector<std::string> ids;
  auto lock = db_.lock();
  auto& select = db_.statement("SELECT id FROM chats WHERE status <> 'idle' ORDER BY seq");
  while (select.step()) ids.push_back(select.text(0));
  return ids;
}

std::vector<std::string> ChatStore::chats_with_queued_messages() const {
  std::vector<std::string> ids;
  auto lock = db_.lock();
  auto& select = db_.statement(
      "SELECT DISTINCT chat_id FROM chat_messages WHERE status = 'queued' ORDER BY chat_id");
  while (select.step()) ids.push_back(select.text(0));
  return ids;
}

std::vector<std::string> ChatStore::recover_interrupted_turns(const std::string& now) {
  std::vector<std::string> changed;
  for (const std::string& id : unfinished_chats()) {
    std::optional<ChatRecord> chat = find_chat(id);
    if (!chat) continue;
    bool waiting = false;
    for (MessageRecord& message : load_messages(id)) {
      for (ToolInvocationRecord& invocation : message.invocations) {
        if (is_waiting(invocation.status) || waits_for_callback(invocation)) {
          waiting = true;
        } else if (!is_settled(invocation.status)) {
          invocation.status = InvocationStatus::failed;
          invocation.result = kChatRestartedError;
          invocation.updated_at = now;
          save_invocation(invocation);
        }
      }
      if (message.status == MessageStatus::pending) {
        message.status = MessageStatus::failed;
        message.error = kChatRestartedError;
        message.updated_at = now;
        save_message(message);
      }
    }
    if (waiting && chat->turn) {
      chat->status = ChatStatus::awaiting_input;
    } else {
      chat->status = ChatStatus::idle;
      chat->turn.reset();
    }
    chat->updated_at = now;
    save_chat(*chat);
    changed.push_back(id);
  }
  return changed;
}

ChatStore::ChatPage ChatStore::list_chats(const ChatQuery& query) const {
  // One statement with every filter optional (NULL parameters match everything).
  static const std::string kWhere =
      " WHERE (?1 IS NULL OR seq < ?1)"
      " AND (?2 = '' OR instr(lower(json_extract(record, '$.name')), lower(?2)) > 0)"
      " AND (?3 IS NULL OR status = ?3)"
      " AND (?4 IS NULL OR (?4 = '' AND parent_id IS NULL) OR parent_id = ?4)";
  const auto bind = [&](Statement& statement, bool with_cursor) {
    if (with_cursor && query.before) {
      statement.bind(1, *query.before);
    } else {
      statement.bind_null(1);
    }
    statement.bind(2, query.name_contains);
    if (query.status) {
      statement.bind(3, *query.status);
    } else {
      statement.bind_null(3);
    }
    if (query.parent_id) {
      statement.bind(4, *query.parent_id);
    } else {
      statement.bind_null(4);
    }
  };
  ChatPage page;
  auto lock = db_.lock();
  auto& select =
      db_.statement("SELECT seq, record FROM chats" + kWhere + " ORDER BY seq DESC LIMIT ?5");
  bind(select, true);
  select.bind(5, static_cast<std::int64_t>(query.limit + 1));
  std::int64_t last_seq = 0;
  while (select.step()) {
    if (page.items.size() == query.limit) {
      page.next_cursor = last_seq;
      select.reset();
      break;
    }
    last_seq = select.integer(0);
    page.items.push_back(chat_from_json(json::parse(select.text(1))));
  }
  auto& count = db_.statement("SELECT count(*) FROM chats" + kWhere);
  bind(count, false);
  if (count.step()) page.total = count.integer(0);
  count.reset();
  return page;
}

// ---- messages and invocations -------------------------------------------------------------------

void ChatStore::save_message(const MessageRecord& message) {
  auto lock = db_.lock();
  auto& upsert = db_.statement(
      "INSERT INTO chat_messages (id, short_id, chat_id, ord, status, record) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (id) DO UPDATE SET ord = excluded.ord, status = excluded.status, "
      "record = excluded.record");
  upsert.bind(1, message.id).bind(2, short_id_of(message.id)).bind(3, message.chat_id);
  upsert.bind(4, message.order).bind(5, to_string(message.status));
  upsert.bind(6, common::compact_json(message_to_json(message))).run();
}

void ChatStore::save_invocation(const ToolInvocationRecord& invocation) {
  auto lock = db_.lock();
  auto& upsert = db_.statement(
      "INSERT INTO tool_invocations (id, short_id, chat_id, message_id, status, record) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record");
  upsert.bind(1, invocation.id).bind(2, short_id_of(invocation.id)).bind(3, invocation.chat_id);
  upsert.bind(4, invocation.message_id).bind(5, to_string(invocation.status));
  upsert.bind(6, common::compact_json(invocation_to_json(invocation))).run();
}

std::vector<MessageRecord> ChatStore::load_messages(const std::string& chat_id) const {
  std::vector<MessageRecord> messages;
  std::unordered_map<std::string, std::size_t> index;
  auto lock = db_.lock();
  auto& select =
      db_.statement("SELECT record FROM chat_messages WHERE chat_id = ?1 ORDER BY ord, seq");
  select.bind(1, chat_id);
  while (select.step()) {
    messages.push_back(message_from_json(json::parse(select.text(0))));
    index.emplace(messages.back().id, messages.size() - 1);
  }
  auto& invocations =
      db_.statement("SELECT record FROM tool_invocations WHERE chat_id = ?1 ORDER BY seq");
  invocations.bind(1, chat_id);
  while (invocations.step()) {
    ToolInvocationRecord invocation = invocation_from_json(json::parse(invocations.text(0)));
    const auto it = index.find(invocation.message_id);
    if (it != index.end()) messages[it->second].invocations.push_back(std::move(invocation));
  }
  return messages;
}

std::optional<std::pair<std::string, std::string>> ChatStore::locate_message(
    const std::string& id_or_short_id) const {
  return locate(db_, "chat_messages", id_or_short_id);
}

std::optional<std::pair<std::string, std::string>> ChatStore::locate_invocation(
    const std::string& id_or_short_id) const {
  return locate(db_, "tool_invocations", id_or_short_id);
}

}  // namespace infsh::local
