// Chats through the local runtime over real sockets: POST /agents/run and POST /chats +
// /chats/{id}/messages start turns; the core runs as a task; the chat stream shows the turn
// (deltas, full messages, the chat's status last); stop, queued messages, paging, renames,
// deletion, agent templates, envelopes, bad bodies and restarts. The core here is an
// in-process app speaking the chat contract; tools are in agent_tools_test.cpp.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include "chat_stream_reader.hpp"
#include "local_runtime_fixture.hpp"

using nlohmann::json;
using namespace infsh::local;
using namespace infsh::local::testing;

namespace {

// A core: answers "you said: <text>" in three streamed pieces; "fail" fails the task; "wait"
// holds until the test opens the gate or the task is cancelled.
class EchoCore final : public App {
 public:
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>(gate);
  }

 private:
  class Instance final : public AppInstance {
   public:
    explicit Instance(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
    json run(const std::string&, const json& input, AppContext& context) override {
      const std::string text = input.value("text", "");
      if (text == "fail") throw std::runtime_error("the model is on fire");
      if (text == "wait") gate_->wait(&context);
      const std::string reply = "you said: " + text;
      json output = {{"response", ""}};
      for (const std::string& piece : {reply.substr(0, 4), reply.substr(4, 5), reply.substr(9)}) {
        output["response"] = output["response"].get<std::string>() + piece;
        context.partial_output(output);
      }
      return output;
    }

   private:
    std::shared_ptr<Gate> gate_;
  };
};

struct Chats {
  LocalRuntime local;
  std::shared_ptr<EchoCore> core = std::make_shared<EchoCore>();

  explicit Chats(RuntimeOptions options = LocalRuntime::quiet()) : local(std::move(options)) {
    local.runtime().apps().add("test/echo-core", core);
  }

  std::uint16_t port() const { return local.port(); }

  RawResponse call(const std::string& method, const std::string& path, const json& body = nullptr,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    return http_request(local.port(), method, path, body.is_null() ? std::string() : body.dump(),
                        headers);
  }
  // The payload of a compat envelope, after checking the status.
  json data(const std::string& method, const std::string& path, const json& body = nullptr,
            int status = 200) const {
    const RawResponse response = call(method, path, body);
    INFO(method << " " << path << " -> " << response.status << " " << response.body);
    REQUIRE(response.status == status);
    const json envelope = response.json();
    REQUIRE(envelope.at("success") == true);
    return envelope.at("data");
  }
  // The sent messages of POST /agents/run.
  json run(const std::string& text, const json& extra = json::object()) const {
    json body = {{"agent_config", {{"name", "echo"}, {"core_app", {{"ref", "test/echo-core"}}}}},
                 {"input", {{"text", text}}}};
    for (const auto& [key, value] : extra.items()) body[key] = value;
    return data("POST", "/agents/run", body);
  }
  // Waits on a stream of the chat until the turn under way ends.
  void wait_for_idle(const std::string& chat_id) const {
    ChatStreamReader stream(port(), chat_id);
    stream.wait_for_chat("idle");
  }
  // Waits (on the stream) for the core's task to be waiting at the gate.
  void wait_for_gate() const { REQUIRE(core->gate->wait_for_waiters()); }
  void open_gate() const { core->gate->open(); }
};

// Waits for the core's answer (an assistant message, ready) and returns its text.
std::string answer_text(ChatStreamReader& stream) {
  return message_text(stream.wait_for_message("assistant", "ready").at("data"));
}

std::size_t index_of(const std::vector<json>& events, const json& event) {
  return static_cast<std::size_t>(std::find(events.begin(), events.end(), event) - events.begin());
}

std::string error_detail(const RawResponse& response) {
  return response.json().value("detail", std::string());
}

}  // namespace

TEST_CASE(
    "a turn answers both messages with the chat busy, then streams deltas, the answer and idle") {
  Chats chats;
  const json sent = chats.run("hello", {{"agent_config",
                                         {{"name", "echo"},
                                          {"system_prompt", "be brief"},
                                          {"core_app", {{"ref", "test/echo-core"}}}}}});
  const json& user = sent.at("user_message");
  const json& assistant = sent.at("assistant_message");
  CHECK(user.at("status") == "ready");
  CHECK(user.at("role") == "user");
  CHECK(message_text(user) == "hello");
  CHECK(assistant.at("status") == "pending");
  CHECK(assistant.at("role") == "assistant");
  const std::string chat_id = assistant.at("chat_id");
  CHECK(user.at("chat_id") == chat_id);
  CHECK(assistant.at("order").get<int>() > user.at("order").get<int>());
  // Busy before the answer, and still: the turn waits for its stream (the list is no read of
  // the chat, which would start the turn as a poll does).
  const json listed = chats.data("POST", "/chats/list", json::object()).at("items");
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("id") == chat_id);
  CHECK(listed[0].at("status") == "busy");

  ChatStreamReader stream(chats.port(), chat_id);
  CHECK(stream.content_type() == "application/x-ndjson");
  const json answer = stream.wait_for_message("assistant", "ready");
  const json idle = stream.wait_for_chat("idle");
  const auto& events = stream.events();
  CHECK(index_of(events, answer) < index_of(events, idle));
  CHECK(message_text(answer.at("data")) == "you said: hello");
  CHECK(answer.at("data").at("id") == assistant.at("id"));
  // The deltas add up to the answer, in order, for that message.
  std::string streamed;
  int seq = 0;
  for (const json& event : events) {
    if (event.at("event") != "delta") continue;
    CHECK(event.at("data").at("resource_id") == assistant.at("id"));
    CHECK(event.at("data").at("seq") == ++seq);
    streamed += event.at("data").at("delta").at("response").get<std::string>();
  }
  CHECK(seq >= 1);  // updates made before the core task was followed arrive as one
  CHECK(streamed == "you said: hello");
  // Nothing about this turn comes after the idle chat.
  CHECK(events.back() == idle);

  const json chat = chats.data("GET", "/chats/" + chat_id);
  CHECK(chat.at("status") == "idle");
  REQUIRE(chat.at("chat_messages").size() == 2);
  CHECK(chat.at("chat_messages")[0].at("id") == user.at("id"));
  const json& stored = chat.at("chat_messages")[1];
  CHECK(message_text(stored) == "you said: hello");
  // The core ran as an ordinary task with the chat contract's input.
  const std::string task_id = stored.at("task_id");
  const json task = chats.data("GET", "/tasks/" + task_id);
  CHECK(task.at("status") == 10);
  CHECK(task.at("app_id") == "test/echo-core");
  CHECK(task.at("input").at("system_prompt") == "be brief");
  CHECK(task.at("input").at("text") == "hello");
  CHECK(task.at("input").at("role") == "user");
  CHECK(task.at("input").at("context") == json::array());
}

TEST_CASE("the next turn of a chat gives the core the conversation so far as context") {
  Chats chats;
  const std::string chat_id = chats.run("one").at("user_message").at("chat_id");
  chats.wait_for_idle(chat_id);
  ChatStreamReader stream(chats.port(), chat_id);
  const json second = chats.run("two", {{"chat_id", chat_id}});
  CHECK(second.at("assistant_message").at("chat_id") == chat_id);
  const json answer = stream.wait_for_message("assistant", "ready");
  stream.wait_for_chat("idle");
  CHECK(message_text(answer.at("data")) == "you said: two");
  const json task =
      chats.data("GET", "/tasks/" + answer.at("data").at("task_id").get<std::string>());
  CHECK(task.at("input").at("text") == "two");
  CHECK(task.at("input").at("context") ==
        json::array({{{"role", "user"}, {"text", "one"}},
                     {{"role", "assistant"}, {"text", "you said: one"}}}));
  CHECK(chats.data("GET", "/chats/" + chat_id).at("chat_messages").size() == 4);
}

TEST_CASE("an existing chat's stream opened before the message sends no idle snapshot") {
  Chats chats;
  const std::string chat_id = chats.run("one").at("user_message").at("chat_id");
  chats.wait_for_idle(chat_id);
  // As the JS SDK does for an existing chat: the stream first, then the POST. The first chat
  // event must be the busy one of the new turn, never the idle state the chat was in.
  ChatStreamReader stream(chats.port(), chat_id);
  chats.run("two", {{"chat_id", chat_id}});
  const json first =
      stream.wait_for([](const json& event) { return event.at("event") == "chats"; });
  CHECK(first.at("data").at("status") == "busy");
  stream.wait_for_chat("idle");
}

TEST_CASE("a turn waiting for a stream starts when the client polls the chat instead") {
  // The JS SDK's polling mode never opens the stream: its first GET of the chat's status (or
  // of the chat) is what shows someone is watching, so the turn must not wait out the grace.
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_stream_grace = std::chrono::hours(1);
  Chats chats(options);
  for (const std::string path : {"/status", ""}) {
    INFO("GET /chats/{id}" << path);
    const std::string chat_id = chats.run("polled").at("user_message").at("chat_id");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::string status;
    while (status != "idle" && std::chrono::steady_clock::now() < deadline) {
      status = chats.data("GET", "/chats/" + chat_id + path).at("status");
    }
    CHECK(status == "idle");
    const json chat = chats.data("GET", "/chats/" + chat_id);
    CHECK(message_text(chat.at("chat_messages").at(1)) == "you said: polled");
  }
}

TEST_CASE("a stream that arrives after its turn ended unwatched still gets the turn and idle") {
  // Under load a client's stream can come after the grace ran out and the turn ended (1,000 JS
  // agents at once did); it would then wait for an end it never sees.
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_stream_grace = std::chrono::milliseconds(0);
  Chats chats(options);
  const json sent = chats.run("late");
  const std::string chat_id = sent.at("user_message").at("chat_id");
  // Until the turn is over, watched only through the list (which is no read of the chat).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string status = "busy";
  while (status != "idle" && std::chrono::steady_clock::now() < deadline) {
    status = chats.data("POST", "/chats/list", json::object()).at("items").at(0).at("status");
  }
  REQUIRE(status == "idle");

  ChatStreamReader stream(chats.port(), chat_id);
  const json answer = stream.wait_for_message("assistant", "ready");
  const json idle = stream.wait_for_chat("idle");
  CHECK(answer.at("data").at("id") == sent.at("assistant_message").at("id"));
  CHECK(message_text(answer.at("data")) == "you said: late");
  const auto& events = stream.events();
  CHECK(index_of(events, answer) < index_of(events, idle));
  CHECK(events.front().at("data").at("id") == sent.at("user_message").at("id"));

  // Shown once: a second stream of the idle chat gets nothing until the next turn, whose busy
  // chat is then its first chat event.
  ChatStreamReader second(chats.port(), chat_id);
  chats.run("next", {{"chat_id", chat_id}});
  const json first =
      second.wait_for([](const json& event) { return event.at("event") == "chats"; });
  CHECK(first.at("data").at("status") == "busy");
  second.wait_for_chat("idle");
}

TEST_CASE("a stream asking only for text/event-stream gets SSE with named events") {
  Chats chats;
  const std::string chat_id = chats.run("sse").at("user_message").at("chat_id");
  ChatStreamReader stream(chats.port(), chat_id, "text/event-stream");
  CHECK(stream.content_type() == "text/event-stream");
  CHECK(answer_text(stream) == "you said: sse");
  stream.wait_for_chat("idle");
}

TEST_CASE("a failing core fails the message with its error and leaves the chat idle") {
  Chats chats;
  const std::string chat_id = chats.run("fail").at("user_message").at("chat_id");
  ChatStreamReader stream(chats.port(), chat_id);
  const json failed = stream.wait_for_message("assistant", "failed");
  stream.wait_for_chat("idle");
  const json& content = failed.at("data").at("content");
  CHECK(content.back().at("error").get<std::string>().find("the model is on fire") !=
        std::string::npos);
}

TEST_CASE("stop cancels the core's task mid-turn: the message ends cancelled, the chat idle") {
  Chats chats;
  const json sent = chats.run("wait");
  const std::string chat_id = sent.at("user_message").at("chat_id");
  ChatStreamReader stream(chats.port(), chat_id);
  chats.wait_for_gate();
  const json with_task = chats.data("GET", "/chats/" + chat_id);
  const std::string task_id = with_task.at("chat_messages")[1].at("task_id");
  CHECK(chats.data("POST", "/chats/" + chat_id + "/stop").is_null());
  const json cancelled = stream.wait_for_message("assistant", "cancelled");
  CHECK(cancelled.at("data").at("id") == sent.at("assistant_message").at("id"));
  stream.wait_for_chat("idle");
  CHECK(chats.data("GET", "/chats/" + chat_id + "/status").at("status") == "idle");
  // The task itself was cancelled.
  REQUIRE(wait_until([&] { return chats.data("GET", "/tasks/" + task_id).at("status") == 12; }));
  // Stopping an idle chat changes nothing.
  CHECK(chats.data("POST", "/chats/" + chat_id + "/stop").is_null());
}

TEST_CASE(
    "a message sent while the chat is busy is queued, runs after the turn, and can be cancelled") {
  Chats chats;
  const std::string chat_id = chats.run("wait").at("user_message").at("chat_id");
  ChatStreamReader stream(chats.port(), chat_id);
  chats.wait_for_gate();
  // Queued: both messages of the turn to come.
  const json queued = chats.run("second", {{"chat_id", chat_id}});
  CHECK(queued.at("user_message").at("status") == "queued");
  CHECK(queued.at("assistant_message").at("status") == "queued");
  // One more through the React client's endpoint, then cancelled.
  const json third = chats.data("POST", "/chats/" + chat_id + "/messages", {{"message", "third"}});
  CHECK(third.at("status") == "queued");
  CHECK(third.at("role") == "user");
  const json cancelled =
      chats.data("POST", "/chats/messages/" + third.at("id").get<std::string>() + "/cancel");
  CHECK(cancelled.at("status") == "cancelled");
  const RawResponse again =
      chats.call("POST", "/chats/messages/" + third.at("id").get<std::string>() + "/cancel");
  CHECK(again.status == 409);
  CHECK(error_detail(again).find("only a queued message") != std::string::npos);
  CHECK(chats.call("POST", "/chats/messages/msg_nope/cancel").status == 404);

  chats.open_gate();
  // The first turn ends, then the queued one runs.
  CHECK(answer_text(stream) == "you said: wait");
  const json second_answer = stream.wait_for([&](const json& event) {
    return event.at("event") == "chat_messages" &&
           event.at("data").at("id") == queued.at("assistant_message").at("id") &&
           event.at("data").at("status") == "ready";
  });
  CHECK(message_text(second_answer.at("data")) == "you said: second");
  stream.wait_for_chat("idle");
  const json chat = chats.data("GET", "/chats/" + chat_id);
  std::vector<std::string> statuses;
  std::vector<int> orders;
  for (const auto& message : chat.at("chat_messages")) {
    statuses.push_back(message.at("status"));
    orders.push_back(message.at("order"));
  }
  CHECK(std::is_sorted(orders.begin(), orders.end()));
  CHECK(std::count(statuses.begin(), statuses.end(), "cancelled") == 2);
  CHECK(std::count(statuses.begin(), statuses.end(), "ready") == 4);
}

TEST_CASE("POST /chats and POST /chats/{id}/messages start turns as the React client sends them") {
  Chats chats;
  const json chat = chats.data("POST", "/chats", {{"agent", "test/echo-core@latest"}});
  const std::string chat_id = chat.at("id");
  CHECK(chat.at("status") == "idle");
  CHECK(chat.at("chat_messages") == json::array());
  ChatStreamReader stream(chats.port(), chat_id);
  const json user = chats.data("POST", "/chats/" + chat_id + "/messages", {{"message", "hi"}});
  CHECK(user.at("role") == "user");
  CHECK(message_text(user) == "hi");
  CHECK(answer_text(stream) == "you said: hi");
  stream.wait_for_chat("idle");
}

TEST_CASE("messages are paged newest first with limit and cursor") {
  Chats chats;
  const std::string chat_id = chats.run("m1").at("user_message").at("chat_id");
  chats.wait_for_idle(chat_id);
  for (const std::string text : {"m2", "m3"}) {
    ChatStreamReader stream(chats.port(), chat_id);
    chats.run(text, {{"chat_id", chat_id}});
    stream.wait_for_chat("idle");
  }
  std::vector<std::string> texts;
  std::string cursor;
  int pages = 0;
  for (;;) {
    const json page = chats.data("GET", "/chats/" + chat_id + "/messages?limit=4" +
                                            (cursor.empty() ? "" : "&cursor=" + cursor));
    ++pages;
    std::vector<std::string> page_texts;
    for (const auto& message : page.at("items")) page_texts.push_back(message_text(message));
    texts.insert(texts.begin(), page_texts.begin(), page_texts.end());
    if (!page.at("has_next").get<bool>()) {
      CHECK(page.at("next_cursor").is_null());
      break;
    }
    cursor = page.at("next_cursor");
  }
  CHECK(pages == 2);
  CHECK(texts ==
        std::vector<std::string>{"m1", "you said: m1", "m2", "you said: m2", "m3", "you said: m3"});
  CHECK(chats.call("GET", "/chats/" + chat_id + "/messages?limit=0").status == 422);
  CHECK(chats.call("GET", "/chats/" + chat_id + "/messages?cursor=abc").status == 422);
}

TEST_CASE("chats are listed, renamed, found by short id, and deleted with their messages") {
  Chats chats;
  std::vector<std::string> ids;
  for (const std::string text : {"first chat", "second chat"}) {
    const std::string id = chats.run(text).at("user_message").at("chat_id");
    ChatStreamReader stream(chats.port(), id);
    stream.wait_for_chat("idle");
    ids.push_back(id);
  }
  const json list = chats.data("POST", "/chats/list", {{"limit", 1}});
  REQUIRE(list.at("items").size() == 1);
  CHECK(list.at("items")[0].at("id") == ids[1]);  // newest first
  CHECK(list.at("has_next") == true);
  CHECK(list.at("total_items") == 2);
  const json next =
      chats.data("POST", "/chats/list", {{"limit", 1}, {"cursor", list.at("next_cursor")}});
  CHECK(next.at("items")[0].at("id") == ids[0]);
  CHECK(next.at("has_next") == false);
  const json found = chats.data("POST", "/chats/list", {{"search", {{"term", "SECOND"}}}});
  REQUIRE(found.at("items").size() == 1);
  CHECK(found.at("items")[0].at("id") == ids[1]);

  const json renamed = chats.data("POST", "/chats/" + ids[0], {{"name", "Renamed"}});
  CHECK(renamed.at("name") == "Renamed");
  // A short id is a prefix of the id, and works wherever the id does.
  const std::string short_id = renamed.at("short_id");
  CHECK(ids[0].rfind(short_id, 0) == 0);
  CHECK(chats.data("GET", "/chats/" + short_id).at("name") == "Renamed");
  CHECK(chats.data("GET", "/chats/" + short_id + "/status").at("id") == ids[0]);

  CHECK(chats.data("DELETE", "/chats/" + ids[0]).is_null());
  CHECK(chats.call("GET", "/chats/" + ids[0]).status == 404);
  CHECK(chats.call("DELETE", "/chats/" + ids[0]).status == 404);
  CHECK(chats.data("POST", "/chats/list", json::object()).at("total_items") == 1);
}

TEST_CASE(
    "ad-hoc agents are one agent per agent_name, with a new version when the config changes") {
  Chats chats;
  const auto agent_of = [&](const json& sent) {
    return chats.data("GET", "/chats/" + sent.at("user_message").at("chat_id").get<std::string>());
  };
  const json a = agent_of(chats.run("a"));
  const json b = agent_of(chats.run("b"));
  CHECK(a.at("agent_id") == b.at("agent_id"));
  CHECK(a.at("agent_version_id") == b.at("agent_version_id"));
  CHECK(a.at("agent").at("name") == "echo");
  const json changed = agent_of(chats.run(
      "c",
      {{"agent_config",
        {{"name", "echo"}, {"system_prompt", "new"}, {"core_app", {{"ref", "test/echo-core"}}}}}}));
  CHECK(changed.at("agent_id") == a.at("agent_id"));
  CHECK(changed.at("agent_version_id") != a.at("agent_version_id"));
  const json other = agent_of(chats.run("d", {{"agent_name", "other"}}));
  CHECK(other.at("agent_id") != a.at("agent_id"));
}

TEST_CASE("a template agent runs as ns/name at any version, with its config") {
  TempDir dir;
  const auto file = dir.write("helper.json", json{{"system_prompt", "you help"},
                                                  {"core_app", {{"ref", "test/echo-core"}}},
                                                  {"internal_tools", {{"finish", true}}}}
                                                 .dump());
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_templates.push_back(parse_agent_template("acme/helper=" + file.string()));
  Chats chats(options);
  const json agent = chats.data("GET", "/agents/acme/helper");
  // As the Python SDK sends it: nulls for what it does not use.
  const json sent = chats.data("POST", "/agents/run",
                               {{"chat_id", nullptr},
                                {"agent", "acme/helper@v1"},
                                {"input",
                                 {{"text", "hey"},
                                  {"attachments", nullptr},
                                  {"role", "user"},
                                  {"context", json::array()},
                                  {"system_prompt", ""},
                                  {"context_size", 0}}}});
  const std::string chat_id = sent.at("assistant_message").at("chat_id");
  ChatStreamReader stream(chats.port(), chat_id);
  stream.wait_for_chat("idle");
  const json chat = chats.data("GET", "/chats/" + chat_id);
  CHECK(chat.at("agent_id") == agent.at("id"));
  CHECK(chat.at("agent").at("name") == "helper");
  const json task =
      chats.data("GET", "/tasks/" + chat.at("chat_messages")[1].at("task_id").get<std::string>());
  CHECK(task.at("input").at("system_prompt") == "you help");
  // The finish tool is offered to the core.
  REQUIRE(task.at("input").at("tools").size() == 1);
  CHECK(task.at("input").at("tools")[0].at("function").at("name") == "finish");
}

TEST_CASE(
    "chat answers come bare for X-API-Version 2, in the compat envelope otherwise, and errors in "
    "one body") {
  Chats chats;
  const json body = {{"agent_config", {{"core_app", {{"ref", "test/echo-core"}}}}},
                     {"input", {{"text", "v2"}}}};
  const RawResponse v2 = chats.call("POST", "/agents/run", body, {{"X-API-Version", "2"}});
  REQUIRE(v2.status == 200);
  CHECK(v2.json().contains("user_message"));
  CHECK(v2.json().contains("assistant_message"));
  const std::string chat_id = v2.json().at("user_message").at("chat_id");
  const RawResponse compat = chats.call("GET", "/chats/" + chat_id + "/status");
  CHECK(compat.json().at("success") == true);
  CHECK(compat.json().at("status") == 200);
  CHECK(compat.json().at("messages") == json::array());
  CHECK(compat.json().at("data").at("id") == chat_id);
  // Void answers: data null for compat, null for v2.
  CHECK(chats.call("POST", "/chats/" + chat_id + "/stop", nullptr, {{"X-API-Version", "2"}}).body ==
        "null");
  const RawResponse missing = chats.call("GET", "/chats/chat_nope");
  CHECK(missing.status == 404);
  const json error = missing.json();
  CHECK(error.at("status") == 404);
  CHECK(error.at("success") == false);
  CHECK(error.at("error").at("code") == "NOT_FOUND");
  CHECK(error.at("detail") == "chat 'chat_nope' not found");
  CHECK(missing.header("Content-Type") == "application/json");
}

TEST_CASE("bad chat and agent bodies are refused naming the field, and nothing is created") {
  Chats chats;
  struct Case {
    std::string method;
    std::string path;
    std::string body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"POST", "/agents/run", "[1]", 400, "JSON object"},
      {"POST", "/agents/run", "{", 400, ""},
      {"POST", "/agents/run", R"({"input": {"text": "x"}})", 422, "'agent'"},
      {"POST", "/agents/run", R"({"agent": 5, "input": {"text": "x"}})", 422, "'agent'"},
      {"POST", "/agents/run", R"({"agent": "acme/nobody@1", "input": {"text": "x"}})", 404,
       "no agent 'acme/nobody@1'"},
      {"POST", "/agents/run", R"({"agent_config": {"core_app": {"ref": "test/echo-core"}}})", 422,
       "'input'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "test/echo-core"}}, "input": {"text": 7}})", 422,
       "'input.text'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "test/echo-core"}}, "input": {"text": "x", "attachments": [{"uri": "/etc/passwd"}]}})",
       422, "'input.attachments[0].uri'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "test/echo-core"}}, "input": {"text": "x", "images": ["file:///etc/passwd"]}})",
       422, "'input.images[0]'"},
      {"POST", "/agents/run", R"({"agent_config": {"system_prompt": "x"}, "input": {"text": "x"}})",
       422, "'agent_config.core_app'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "acme/missing"}}, "input": {"text": "x"}})", 422,
       "'agent_config.core_app.ref'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "test/echo-core"}, "tools": [{"name": "t", "type": "rocket"}]}, "input": {"text": "x"}})",
       422, "'agent_config.tools[0].type'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "test/echo-core"}, "tools": [{"name": "bad name", "type": "client"}]}, "input": {"text": "x"}})",
       422, "'agent_config.tools[0].name'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "test/echo-core"}, "tools": [{"name": "a", "type": "app"}]}, "input": {"text": "x"}})",
       422, "'agent_config.tools[0].app'"},
      {"POST", "/agents/run",
       R"({"agent_config": {"core_app": {"ref": "test/echo-core"}}, "input": {"text": "x"}, "context": "x"})",
       422, "'context'"},
      {"POST", "/agents/run", R"({"chat_id": "chat_nope", "input": {"text": "x"}})", 404,
       "chat 'chat_nope' not found"},
      {"POST", "/chats", R"({})", 422, "'agent'"},
      {"POST", "/chats", R"({"agent": "acme/nobody"})", 404, "no agent"},
      {"POST", "/agents", R"({"name": "x"})", 422, "'version.core_app'"},
      {"POST", "/agents", R"({"name": "a b", "version": {"core_app": {"ref": "x/y"}}})", 422,
       "'name'"},
      {"POST", "/chats/list", R"({"limit": 500})", 422, "'limit'"},
      {"POST", "/chats/list", R"({"filters": [{"field": "color", "operator": "eq"}]})", 422,
       "'filters[0].field'"},
      {"POST", "/tools/tinv_nope", R"({"result": "x"})", 404, "tool invocation 'tinv_nope'"},
      {"POST", "/tools/tinv_nope", R"({"nothing": 1})", 422, "'result'"},
      {"POST", "/tools/tinv_nope/invoke", "", 404, "tool invocation"},
      {"POST", "/tools/tinv_nope/reject", R"({"reason": 5})", 422, "'reason'"},
      {"GET", "/agents/agent_nope", "", 404, "agent 'agent_nope' not found"},
  };
  for (const Case& c : cases) {
    INFO(c.method << " " << c.path << " " << c.body);
    const RawResponse response = http_request(chats.port(), c.method, c.path, c.body);
    CHECK(response.status == c.status);
    CHECK(error_detail(response).find(c.says) != std::string::npos);
  }
  CHECK(chats.data("POST", "/chats/list", json::object()).at("total_items") == 0);
}

TEST_CASE(
    "a turn running when the runtime stops ends failed when the next runtime opens the data") {
  TempDir data;
  RuntimeOptions options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  std::string chat_id;
  std::string assistant_id;
  {
    Chats chats(options);
    const json sent = chats.run("wait");
    chat_id = sent.at("user_message").at("chat_id");
    assistant_id = sent.at("assistant_message").at("id");
    ChatStreamReader stream(chats.port(), chat_id);
    chats.wait_for_gate();
    // The runtime stops with the turn under way; its stream ends.
    chats.local.runtime().stop();
    CHECK(stream.ended());
  }
  Chats chats(options);
  const json chat = chats.data("GET", "/chats/" + chat_id);
  CHECK(chat.at("status") == "idle");
  const json& message = chat.at("chat_messages")[1];
  CHECK(message.at("id") == assistant_id);
  CHECK(message.at("status") == "failed");
  CHECK(message.at("content").back().at("error") == "the runtime restarted during the turn");
  // The chat goes on.
  ChatStreamReader stream(chats.port(), chat_id);
  chats.run("again", {{"chat_id", chat_id}});
  CHECK(answer_text(stream) == "you said: again");
}
