// The async client's agents against the scripted server: the blocking agent's exact requests and
// turn rules, callbacks on the loop thread, client tools whose handlers run themselves (blocking
// ones off the loop, asynchronous ones as futures, throwing ones submitting {"error": ...}), a
// dropped stream resumed without running a tool twice, approvals, polling, cancellation at every
// stage and shutdown with turns and handlers in flight.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "inferencesh/async_client.hpp"
#include "inferencesh/errors.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inf::testing::ndjson;
using inf::testing::ndjson_reply;
using inf::testing::RecordedRequest;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json message(const std::string& id, const std::string& role, const std::string& status,
             const std::string& text, int order, json invocations = json::array()) {
  return {{"id", id},
          {"chat_id", "chat_1"},
          {"role", role},
          {"status", status},
          {"order", order},
          {"content", {{{"type", "text"}, {"text", text}}}},
          {"tool_invocations", std::move(invocations)}};
}

json invocation(const std::string& id, const std::string& name, const std::string& status,
                const std::string& type = "client") {
  return {{"id", id},
          {"type", type},
          {"status", status},
          {"function", {{"name", name}, {"arguments", {{"city", "Paris"}}}}}};
}

json chat(const std::string& status, json messages = json::array()) {
  return {{"id", "chat_1"}, {"status", status}, {"chat_messages", std::move(messages)}};
}

json event(const std::string& name, const json& data) { return {{"event", name}, {"data", data}}; }

json run_answer(const std::string& user_id = "msg_u1", const std::string& assistant_id = "msg_a1",
                int order = 0) {
  return {{"user_message", message(user_id, "user", "ready", "hi", order)},
          {"assistant_message", message(assistant_id, "assistant", "pending", "", order + 1)}};
}

std::vector<RecordedRequest> requests_to(const ScriptedServer& server, const std::string& method,
                                         const std::string& path) {
  std::vector<RecordedRequest> found;
  for (auto& request : server.requests()) {
    if (request.method == method && request.path == path) found.push_back(request);
  }
  return found;
}

Reply stalled_stream(const json& first_event) {
  return Reply::status(200)
      .header("Content-Type", "application/x-ndjson")
      .chunked()
      .send(ndjson({first_event}))
      .stall();
}

inf::AsyncClient async_client(const ScriptedServer& server) {
  return inf::async_inference(inf::testing::test_options(server));
}

/// A gate a handler waits at until the test opens it; it tells when the handler arrived.
class Gate {
 public:
  void arrive_and_wait() {
    std::unique_lock lock(mutex_);
    arrived_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  bool wait_arrived(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return arrived_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool arrived_ = false;
  bool open_ = false;
};

}  // namespace

TEST_CASE(
    "an async agent sends the blocking agent's exact run requests and runs its callbacks on the "
    "loop thread in order",
    "[async][agents]") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()))
      .on("POST", "/agents/run", Reply::json(200, run_answer("msg_u2", "msg_a2", 2)));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  router
      .on("GET", "/chats/chat_1/stream",
          ndjson_reply(
              {event("chats", chat("busy")),
               event("delta",
                     {{"resource_id", "msg_a1"}, {"seq", 1}, {"delta", {{"response", "do"}}}}),
               event("chat_messages", message("msg_a1", "assistant", "ready", "done", 1)),
               event("chats", {{"id", "chat_1"}, {"status", "idle"}})}))
      .on("GET", "/chats/chat_1/stream",
          ndjson_reply(
              {event("chats", {{"id", "chat_1"}, {"status", "idle"}}),
               event("chat_messages", message("msg_a2", "assistant", "ready", "second", 3)),
               event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = "x/llm@1",
                             .tools = {inf::tool("get_weather")
                                           .description("Get current weather")
                                           .params({{"city", inf::string("City name")}})
                                           .handler([](const json&) { return std::string("{}"); })
                                           .build()},
                             .context = {{"user", "ada"}}});

  std::vector<std::string> seen;  // written on the loop thread, read after get()
  std::vector<std::thread::id> threads;
  inf::SendMessageOptions options;
  options.on_chat = [&](const inf::Chat& c) {
    seen.push_back("chat " + std::string(inf::to_string(c.status)));
    threads.push_back(std::this_thread::get_id());
  };
  options.on_message = [&](const inf::ChatMessage& m) {
    seen.push_back("message " + m.id + " " + m.text());
  };
  options.on_delta = [&](const inf::ChatDelta& d) { seen.push_back("delta " + d.text); };
  const inf::AgentResponse first = agent.send_message("What's the weather?", options).get();
  CHECK(first.text() == "done");
  CHECK(first.turn_ended());
  CHECK(agent.chat_id() == "chat_1");
  // The new chat's stream opens after the POST; the chat is fetched once it is open.
  CHECK(seen == std::vector<std::string>{"chat busy", "chat busy", "delta do",
                                         "message msg_a1 done", "chat idle"});
  REQUIRE_FALSE(threads.empty());
  for (const auto& id : threads) CHECK(id != std::this_thread::get_id());

  const std::size_t before = server.request_count();
  const auto second = agent.send_message("Again").get();
  CHECK(second.text() == "second");
  const auto requests = server.requests();
  REQUIRE(requests.size() == before + 2);
  // An existing chat: the stream opens before the message goes out (the turn gate then keeps
  // the idle snapshot from ending the turn).
  CHECK(requests[before].path == "/chats/chat_1/stream");
  CHECK(requests[before].header("Accept") == "application/x-ndjson");
  CHECK(requests[before + 1].path == "/agents/run");

  const auto runs = requests_to(server, "POST", "/agents/run");
  REQUIRE(runs.size() == 2);
  CHECK(
      runs[0].json() ==
      json{{"agent_config",
            {{"core_app", {{"ref", "x/llm@1"}}},
             {"system_prompt", ""},
             {"tools",
              {{{"name", "get_weather"},
                {"display_name", "get_weather"},
                {"description", "Get current weather"},
                {"type", "client"},
                {"client",
                 {{"input_schema",
                   {{"type", "object"},
                    {"properties", {{"city", {{"type", "string"}, {"description", "City name"}}}}},
                    {"required", {"city"}}}}}}}}}}},
           {"context", {{"user", "ada"}}},
           {"input",
            {{"text", "What's the weather?"},
             {"role", "user"},
             {"context", json::array()},
             {"system_prompt", ""},
             {"context_size", 0}}}});
  CHECK(runs[1].json().at("chat_id") == "chat_1");
}

TEST_CASE(
    "for an existing chat the message goes out once the stream's head is in, before any event",
    "[async][agents]") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()))
      .on("POST", "/agents/run", Reply::json(200, run_answer("msg_u2", "msg_a2", 2)));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  router
      .on("GET", "/chats/chat_1/stream",
          ndjson_reply({event("chats", chat("busy")),
                        event("chat_messages", message("msg_a1", "assistant", "ready", "done", 1)),
                        event("chats", {{"id", "chat_1"}, {"status", "idle"}})}))
      // An idle chat's stream: the head, then nothing until something happens.
      .on("GET", "/chats/chat_1/stream",
          Reply::status(200).header("Content-Type", "application/x-ndjson").chunked().stall());
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto agent = client.agents.create("a/b@1");
  CHECK(agent.send_message("one").get().text() == "done");
  const std::size_t before = server.request_count();
  inf::CancellationToken cancel;
  inf::SendMessageOptions options;
  options.cancel = cancel;
  auto second = agent.send_message("two", options);
  REQUIRE(server.wait_for_requests(before + 2, 10s));
  const auto requests = server.requests();
  CHECK(requests[before].path == "/chats/chat_1/stream");
  CHECK(requests[before + 1].path == "/agents/run");
  cancel.cancel();
  CHECK_THROWS_AS(second.get(), inf::CancelledError);
}

TEST_CASE(
    "an async agent's blocking handler runs once off the loop thread, and a stream dropped "
    "mid-turn is resumed without running it again",
    "[async][agents]") {
  std::atomic<int> handler_calls{0};
  std::thread::id handler_thread;
  std::thread::id loop_thread;
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  const json waiting = message("msg_a1", "assistant", "ready", "Let me check.", 1,
                               {invocation("tinv_1", "get_weather", "awaiting_input")});
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy", {waiting})));
  router
      .on("GET", "/chats/chat_1/stream",
          Reply::status(200)
              .header("Content-Type", "application/x-ndjson")
              .chunked()
              .send(ndjson({event("chat_messages", waiting),
                            event("chats", {{"id", "chat_1"}, {"status", "awaiting_input"}})}))
              .drop())
      .on("GET", "/chats/chat_1/stream",
          ndjson_reply(
              {event("chat_messages", waiting),
               event("chat_messages", message("msg_a1", "assistant", "ready", "Let me check.", 1,
                                              {invocation("tinv_1", "get_weather", "completed")})),
               event("chat_messages", message("msg_a2", "assistant", "ready", "Sunny.", 2)),
               event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
  router.on("POST", "/tools/tinv_1", Reply::json(200, {{"data", nullptr}}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = "x/llm@1",
      .tools = {inf::tool("get_weather")
                    .handler([&](const json& args) {
                      ++handler_calls;
                      handler_thread = std::this_thread::get_id();
                      return "sunny in " + args.at("city").get<std::string>();
                    })
                    .build()}});
  std::vector<std::string> tool_calls;
  inf::SendMessageOptions options;
  options.on_tool_call = [&](const inf::ToolCall& call) {
    tool_calls.push_back(call.name);
    loop_thread = std::this_thread::get_id();
  };
  const auto reply = agent.send_message("Weather?", options).get();
  CHECK(reply.text() == "Sunny.");
  CHECK(reply.turn_ended());
  CHECK(handler_calls == 1);
  CHECK(tool_calls == std::vector<std::string>{"get_weather"});
  CHECK(handler_thread != loop_thread);
  CHECK(handler_thread != std::this_thread::get_id());
  const auto results = requests_to(server, "POST", "/tools/tinv_1");
  REQUIRE(results.size() == 1);
  CHECK(results[0].json() == json{{"result", "sunny in Paris"}});
  CHECK(requests_to(server, "GET", "/chats/chat_1/stream").size() == 2);
  // Fetched once after the first open (a new chat) and once after the reconnect.
  CHECK(requests_to(server, "GET", "/chats/chat_1").size() == 2);
}

namespace {

// An asynchronous handler: a coroutine that asks the API through the same async client.
inf::future<std::string> forecast_from_task(inf::AsyncClient client) {
  const inf::Task task = co_await client.tasks.get("t_forecast");
  co_return task.output.dump();
}

}  // namespace

TEST_CASE(
    "an asynchronous handler's future is submitted when it completes, and a throwing handler "
    "submits its error",
    "[async][agents]") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  const json waiting = message("msg_a1", "assistant", "ready", "Checking.", 1,
                               {invocation("tinv_1", "get_weather", "awaiting_input"),
                                invocation("tinv_2", "broken", "awaiting_input"),
                                invocation("tinv_3", "async_broken", "awaiting_input")});
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("awaiting_input", {waiting})));
  router.on("GET", "/chats/chat_1/stream",
            ndjson_reply({event("chat_messages", waiting),
                          event("chats", {{"id", "chat_1"}, {"status", "awaiting_input"}}),
                          event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
  router.on("GET", "/tasks/t_forecast",
            Reply::json(200, {{"id", "t_forecast"}, {"status", 10}, {"output", {{"temp", 21}}}}));
  router.on("POST", "/tools/*", Reply::json(200, {{"data", nullptr}}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  std::atomic<int> async_calls{0};
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = "x/llm@1",
      .tools = {inf::tool("get_weather")
                    .handler([&](const json&) -> inf::future<std::string> {
                      ++async_calls;
                      return forecast_from_task(client);
                    })
                    .build(),
                inf::tool("broken")
                    .handler([](const json&) -> std::string {
                      throw std::runtime_error("no forecast today");
                    })
                    .build(),
                inf::tool("async_broken")
                    .handler([](const json&) {
                      return inf::make_exceptional_future<std::string>(
                          std::make_exception_ptr(std::runtime_error("async failure")));
                    })
                    .build()}});
  const auto reply = agent.send_message("Weather?").get();
  // The chat went idle before the results were in: the turn still ends only after its handlers.
  CHECK(reply.turn_ended());
  CHECK(async_calls == 1);
  const auto first = requests_to(server, "POST", "/tools/tinv_1");
  REQUIRE(first.size() == 1);
  CHECK(first[0].json() == json{{"result", R"({"temp":21})"}});
  const auto second = requests_to(server, "POST", "/tools/tinv_2");
  REQUIRE(second.size() == 1);
  CHECK(second[0].json() == json{{"result", R"({"error":"no forecast today"})"}});
  const auto third = requests_to(server, "POST", "/tools/tinv_3");
  REQUIRE(third.size() == 1);
  CHECK(third[0].json() == json{{"result", R"({"error":"async failure"})"}});
}

TEST_CASE(
    "async approvals: on_approval decides off the loop thread, and without it the call is "
    "returned pending",
    "[async][agents]") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  const json waiting = message("msg_a1", "assistant", "ready", "May I?", 1,
                               {invocation("tinv_1", "delete_files", "awaiting_approval", "app")});
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("awaiting_input", {waiting})));
  router.on("POST", "/tools/tinv_1/invoke", Reply::json(200, {{"data", nullptr}}));
  router.on("POST", "/tools/tinv_1/reject", Reply::json(200, {{"data", nullptr}}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto agent = client.agents.create("a/b@1");

  SECTION("approved by the callback") {
    router.on("GET", "/chats/chat_1/stream",
              ndjson_reply({event("chat_messages", waiting),
                            event("chats", {{"id", "chat_1"}, {"status", "awaiting_input"}}),
                            event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
    std::thread::id asked_on;
    inf::SendMessageOptions options;
    options.on_approval = [&](const inf::ToolInvocation& call) {
      asked_on = std::this_thread::get_id();
      CHECK(call.name == "delete_files");
      return inf::ApprovalDecision::approve();
    };
    const auto reply = agent.send_message("Clean up", options).get();
    CHECK(reply.turn_ended());
    CHECK(asked_on != std::this_thread::get_id());
    CHECK(requests_to(server, "POST", "/tools/tinv_1/invoke").size() == 1);
  }
  SECTION("left pending without a callback, then rejected by the program") {
    router.on("GET", "/chats/chat_1/stream",
              Reply::status(200)
                  .header("Content-Type", "application/x-ndjson")
                  .chunked()
                  .send(ndjson({event("chat_messages", waiting),
                                event("chats", {{"id", "chat_1"}, {"status", "awaiting_input"}})}))
                  .stall());
    const auto reply = agent.send_message("Clean up").get();
    CHECK_FALSE(reply.turn_ended());
    REQUIRE(reply.pending_approvals.size() == 1);
    CHECK(reply.pending_approvals[0].id == "tinv_1");
    agent.reject("tinv_1", "too risky").get();
    const auto rejected = requests_to(server, "POST", "/tools/tinv_1/reject");
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].json() == json{{"reason", "too risky"}});
  }
}

TEST_CASE("an async agent in polling mode fetches the chat when its status changes",
          "[async][agents]") {
  std::atomic<int> handler_calls{0};
  std::atomic<int> status_calls{0};
  const json waiting = message("msg_a1", "assistant", "ready", "Checking", 1,
                               {invocation("tinv_1", "get_weather", "awaiting_input")});
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("POST", "/tools/tinv_1", Reply::json(200, {{"data", nullptr}}));
  router.on("GET", "/chats/chat_1/status", [&](const RecordedRequest&) {
    const int n = ++status_calls;
    return Reply::json(200, {{"id", "chat_1"},
                             {"status", n <= 3 ? "awaiting_input" : "idle"},
                             {"updated_at", n <= 3 ? "t1" : "t2"}});
  });
  router
      .on("GET", "/chats/chat_1",
          Reply::json(
              200, chat("awaiting_input", {message("msg_u1", "user", "ready", "hi", 0), waiting})))
      .on("GET", "/chats/chat_1",
          Reply::json(200,
                      chat("idle", {message("msg_u1", "user", "ready", "hi", 0),
                                    message("msg_a1", "assistant", "ready", "Checking", 1,
                                            {invocation("tinv_1", "get_weather", "completed")}),
                                    message("msg_a2", "assistant", "ready", "Sunny.", 2)})));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto agent =
      client.agents.create(inf::AdHocAgentOptions{.core_app = "x/llm@1",
                                                  .tools = {inf::tool("get_weather")
                                                                .handler([&](const json&) {
                                                                  ++handler_calls;
                                                                  return std::string("sunny");
                                                                })
                                                                .build()}});
  inf::SendMessageOptions options;
  options.mode = inf::WaitMode::poll;
  options.poll_interval = 2ms;
  const auto reply = agent.send_message("hi", options).get();
  CHECK(reply.text() == "Sunny.");
  CHECK(handler_calls == 1);
  CHECK(requests_to(server, "POST", "/tools/tinv_1").size() == 1);
  CHECK(status_calls == 4);
  CHECK(requests_to(server, "GET", "/chats/chat_1").size() == 2);
  CHECK(requests_to(server, "GET", "/chats/chat_1/stream").empty());
}

TEST_CASE("an async agent's turn ends with CancelledError when its token fires, at every stage",
          "[async][agents]") {
  Router router;
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  const json waiting = message("msg_a1", "assistant", "ready", "Checking", 1,
                               {invocation("tinv_1", "get_weather", "awaiting_input")});
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto gate = std::make_shared<Gate>();
  auto agent =
      client.agents.create(inf::AdHocAgentOptions{.core_app = "x/llm@1",
                                                  .tools = {inf::tool("get_weather")
                                                                .handler([gate](const json&) {
                                                                  gate->arrive_and_wait();
                                                                  return std::string("late");
                                                                })
                                                                .build()}});
  inf::CancellationToken cancel;
  inf::SendMessageOptions options;
  options.cancel = cancel;

  SECTION("before anything was sent") {
    router.on("POST", "/agents/run", Reply::json(200, run_answer()));
    cancel.cancel();
    CHECK_THROWS_AS(agent.send_message("hi", options).get(), inf::CancelledError);
    CHECK(server.request_count() == 0);
  }
  SECTION("while the message is unanswered") {
    router.on("POST", "/agents/run", Reply::status(200).stall());
    auto reply = agent.send_message("hi", options);
    REQUIRE(server.wait_for_requests(1, 10s));
    cancel.cancel();
    CHECK_THROWS_AS(reply.get(), inf::CancelledError);
  }
  SECTION("while the stream is open") {
    router.on("POST", "/agents/run", Reply::json(200, run_answer()));
    router.on("GET", "/chats/chat_1/stream", stalled_stream(event("chats", chat("busy"))));
    options.on_chat = [cancel](const inf::Chat&) { cancel.cancel(); };
    CHECK_THROWS_AS(agent.send_message("hi", options).get(), inf::CancelledError);
  }
  SECTION("while a handler runs") {
    router.on("POST", "/agents/run", Reply::json(200, run_answer()));
    router.on("POST", "/tools/tinv_1", Reply::json(200, {{"data", nullptr}}));
    router.on("GET", "/chats/chat_1/stream", stalled_stream(event("chat_messages", waiting)));
    auto reply = agent.send_message("hi", options);
    REQUIRE(gate->wait_arrived(10s));
    cancel.cancel();
    // Completed while the handler is still held: nobody waits for it.
    CHECK_THROWS_AS(reply.get(), inf::CancelledError);
  }
  SECTION("between two polls") {
    router.on("POST", "/agents/run", Reply::json(200, run_answer()));
    router.on("GET", "/chats/chat_1/status",
              Reply::json(200, {{"id", "chat_1"}, {"status", "busy"}, {"updated_at", "t1"}}));
    options.mode = inf::WaitMode::poll;
    options.poll_interval = std::chrono::hours(1);
    options.on_chat = [cancel](const inf::Chat&) { cancel.cancel(); };
    CHECK_THROWS_AS(agent.send_message("hi", options).get(), inf::CancelledError);
  }
  gate->open();
}

TEST_CASE("an exception thrown by an async agent's callback ends its turn with that exception",
          "[async][agents]") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  router.on("GET", "/chats/chat_1/stream", stalled_stream(event("chats", chat("busy"))));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto agent = client.agents.create("a/b@1");
  inf::SendMessageOptions options;
  options.on_chat = [](const inf::Chat&) { throw std::runtime_error("callback failed"); };
  CHECK_THROWS_WITH(agent.send_message("hi", options).get(), "callback failed");
}

TEST_CASE(
    "shutting the async client down with turns in flight ends them with CancelledError, and a "
    "handler still running afterwards touches nothing freed",
    "[async][agents]") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  const json waiting = message("msg_a1", "assistant", "ready", "Checking", 1,
                               {invocation("tinv_1", "get_weather", "awaiting_input")});
  router.on("GET", "/chats/chat_1/stream", stalled_stream(event("chat_messages", waiting)));
  router.on("POST", "/tools/tinv_1", Reply::json(200, {{"data", nullptr}}));
  ScriptedServer server(router.handler());
  auto gate = std::make_shared<Gate>();
  auto sentinel = std::make_shared<int>(0);
  std::weak_ptr<int> handler_state = sentinel;
  std::vector<inf::future<inf::AgentResponse>> turns;
  {
    auto client = async_client(server);
    auto agent = client.agents.create(inf::AdHocAgentOptions{
        .core_app = "x/llm@1",
        .tools = {inf::tool("get_weather")
                      .handler([gate, sentinel = std::move(sentinel)](const json&) {
                        gate->arrive_and_wait();
                        return std::to_string(*sentinel);
                      })
                      .build()}});
    turns.push_back(agent.send_message("one"));
    REQUIRE(gate->wait_arrived(10s));
    for (int i = 0; i < 20; ++i) {
      turns.push_back(client.agents.create("a/b@1").send_message("more"));
    }
    // The client and its agents go away here with every turn in flight.
  }
  for (auto& turn : turns) CHECK_THROWS_AS(turn.get(), inf::CancelledError);
  // The handler still runs; once let go it finishes, and its result goes nowhere.
  gate->open();
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!handler_state.expired() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(handler_state.expired());
  CHECK(requests_to(server, "POST", "/tools/tinv_1").empty());
}
