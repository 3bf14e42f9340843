// The agent loop's tools through the local runtime over real sockets, with infsh/scripted-llm as
// the core: client tools (POST /tools/{id}), approvals (invoke, reject, always-allow), app tools,
// sub-agents and their depth cap, http tools with secrets, hook tools and their callback, mcp,
// the internal tools (finish with output_schema, plan, memory), the step cap, stop while a tool
// waits, and a waiting tool surviving a restart.

#include <catch2/catch.hpp>

#include <mutex>

#include "chat_stream_reader.hpp"
#include "local_runtime_fixture.hpp"
#include "support/scripted_server.hpp"

using nlohmann::json;
using namespace infsh::local;
using namespace infsh::local::testing;
using inferencesh::testing::RecordedRequest;
using inferencesh::testing::Reply;
using inferencesh::testing::ScriptedServer;

namespace {

// A runtime and the calls the tests make on it (compat envelope).
struct Agents {
  LocalRuntime local;

  explicit Agents(RuntimeOptions options = LocalRuntime::quiet()) : local(std::move(options)) {}

  std::uint16_t port() const { return local.port(); }

  RawResponse call(const std::string& method, const std::string& path,
                   const json& body = nullptr) const {
    return http_request(local.port(), method, path, body.is_null() ? std::string() : body.dump());
  }
  json data(const std::string& method, const std::string& path, const json& body = nullptr,
            int status = 200) const {
    const RawResponse response = call(method, path, body);
    INFO(method << " " << path << " -> " << response.status << " " << response.body);
    REQUIRE(response.status == status);
    return response.json().at("data");
  }
  // Starts a chat with an ad-hoc agent whose core is infsh/scripted-llm running `script`.
  std::string start(const json& script, const json& tools, const std::string& text = "hi",
                    json extra_config = json::object()) const {
    json config = {{"name", "scripted"},
                   {"core_app", {{"ref", "infsh/scripted-llm"}, {"setup", script}}},
                   {"tools", tools}};
    for (const auto& [key, value] : extra_config.items()) config[key] = value;
    const json sent =
        data("POST", "/agents/run", {{"agent_config", config}, {"input", {{"text", text}}}});
    return sent.at("user_message").at("chat_id");
  }
  json chat(const std::string& id) const { return data("GET", "/chats/" + id); }
  // Waits on the chat's stream until the turn under way ends, and returns the chat.
  json chat_when_idle(const std::string& id) const {
    ChatStreamReader stream(port(), id);
    stream.wait_for_chat("idle");
    return chat(id);
  }
};

// The tool invocations of a chat's first step (its first assistant message).
const json& first_step_invocations(const json& chat) {
  return chat.at("chat_messages")[1].at("tool_invocations");
}

// A chat_messages event whose message has an invocation in `status`; returns the invocation.
json wait_for_invocation(ChatStreamReader& stream, const std::string& status) {
  const json event = stream.wait_for([&](const json& e) {
    if (e.at("event") != "chat_messages") return false;
    for (const auto& invocation : e.at("data").at("tool_invocations")) {
      if (invocation.at("status") == status) return true;
    }
    return false;
  });
  for (const auto& invocation : event.at("data").at("tool_invocations")) {
    if (invocation.at("status") == status) return invocation;
  }
  return nullptr;
}

// The text of the last assistant message of a chat.
std::string answer_of(const json& chat) {
  std::string text;
  for (const auto& message : chat.at("chat_messages")) {
    if (message.at("role") == "assistant") text = message_text(message);
  }
  return text;
}

json client_tool(const std::string& name) {
  return {{"name", name},
          {"type", "client"},
          {"description", "asks the client"},
          {"client",
           {{"input_schema",
             {{"type", "object"},
              {"properties", {{"city", {{"type", "string"}}}}},
              {"required", {"city"}}}}}}};
}

// Calls `tool` with `arguments` first, then says what came back.
json call_then_quote(const std::string& tool, const json& arguments) {
  return {
      {"steps",
       {{{"text", "Let me check."}, {"tool_calls", {{{"name", tool}, {"arguments", arguments}}}}},
        {{"text", "Result: {{last_tool_result}}"}}}}};
}

}  // namespace

TEST_CASE(
    "a client tool waits in awaiting_input until POST /tools/{id}, and its result reaches the "
    "core") {
  Agents agents;
  const std::string chat_id = agents.start(call_then_quote("get_weather", {{"city", "Paris"}}),
                                           json::array({client_tool("get_weather")}));
  ChatStreamReader stream(agents.port(), chat_id);
  const json invocation = wait_for_invocation(stream, "awaiting_input");
  CHECK(invocation.at("type") == "client");
  CHECK(invocation.at("function") ==
        json{{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}});
  CHECK(invocation.at("tool_invocation_id").get<std::string>().rfind("call_", 0) == 0);
  stream.wait_for_chat("awaiting_input");
  CHECK(agents.data("GET", "/chats/" + chat_id + "/status").at("status") == "awaiting_input");

  const std::string id = invocation.at("id");
  CHECK(agents.data("POST", "/tools/" + id, {{"result", "sunny"}}).is_null());
  const json done = wait_for_invocation(stream, "completed");
  CHECK(done.at("result") == "sunny");
  const json answer = stream.wait_for([](const json& e) {
    return e.at("event") == "chat_messages" && e.at("data").at("status") == "ready" &&
           e.at("data").at("tool_invocations").empty();
  });
  CHECK(message_text(answer.at("data")) == "Result: sunny");
  stream.wait_for_chat("idle");

  // A second result for it is refused with the reason; an unknown id is not found.
  const RawResponse again = agents.call("POST", "/tools/" + id, {{"result", "rainy"}});
  CHECK(again.status == 409);
  CHECK(again.json().at("detail").get<std::string>().find("is completed") != std::string::npos);
  CHECK(agents.call("POST", "/tools/tinv_unknown", {{"result", "x"}}).status == 404);

  // The core saw the call and its result as the conversation's last messages.
  const json chat = agents.chat(chat_id);
  const json& last = chat.at("chat_messages").back();
  const json task = agents.data("GET", "/tasks/" + last.at("task_id").get<std::string>());
  const json& input = task.at("input");
  CHECK(input.at("role") == "tool");
  CHECK(input.at("text") == "sunny");
  CHECK(input.at("tool_call_id") == invocation.at("tool_invocation_id"));
  const json& call = input.at("context").back();
  CHECK(call.at("role") == "assistant");
  CHECK(call.at("tool_calls")[0].at("function").at("name") == "get_weather");
  // The tool reached the core in OpenAI's function format.
  CHECK(input.at("tools")[0] == json{{"type", "function"},
                                     {"function",
                                      {{"name", "get_weather"},
                                       {"description", "asks the client"},
                                       {"parameters",
                                        {{"type", "object"},
                                         {"properties", {{"city", {{"type", "string"}}}}},
                                         {"required", {"city"}}}}}}});
}

TEST_CASE("a widget action object is taken as the result's JSON text, sent to a short id") {
  Agents agents;
  const std::string chat_id = agents.start(call_then_quote("confirm", json::object()),
                                           json::array({client_tool("confirm")}));
  ChatStreamReader stream(agents.port(), chat_id);
  const json invocation = wait_for_invocation(stream, "awaiting_input");
  const std::string short_id = invocation.at("short_id");
  const json action = {{"action", {{"type", "confirm"}}}, {"form_data", {{"ok", true}}}};
  CHECK(agents.data("POST", "/tools/" + short_id, action).is_null());
  stream.wait_for_chat("idle");
  CHECK(json::parse(answer_of(agents.chat(chat_id)).substr(8)) == action);
}

TEST_CASE(
    "a tool that requires approval waits in awaiting_approval, invoke runs it and reject tells the "
    "core") {
  Agents agents;
  const json echo = {{"name", "echo"},
                     {"type", "app"},
                     {"require_approval", true},
                     {"app", {{"ref", "infsh/echo@latest"}}}};
  SECTION("invoke") {
    const std::string chat_id =
        agents.start(call_then_quote("echo", {{"text", "hello"}}), json::array({echo}));
    ChatStreamReader stream(agents.port(), chat_id);
    const json waiting = wait_for_invocation(stream, "awaiting_approval");
    stream.wait_for_chat("awaiting_input");
    const std::string id = waiting.at("id");
    const RawResponse early = agents.call("POST", "/tools/" + id, {{"result", "x"}});
    CHECK(early.status == 409);
    CHECK(early.json().at("detail").get<std::string>().find("awaiting_approval") !=
          std::string::npos);
    CHECK(agents.data("POST", "/tools/" + id + "/invoke").is_null());
    const json done = wait_for_invocation(stream, "completed");
    CHECK(json::parse(done.at("result").get<std::string>()) == json{{"text", "hello"}});
    CHECK(done.at("execution_id").get<std::string>().rfind("task_", 0) == 0);
    stream.wait_for_chat("idle");
    CHECK(answer_of(agents.chat(chat_id)) == R"(Result: {"text":"hello"})");
    CHECK(agents.call("POST", "/tools/" + id + "/invoke").status == 409);
  }
  SECTION("reject") {
    const std::string chat_id =
        agents.start(call_then_quote("echo", {{"text", "hello"}}), json::array({echo}));
    ChatStreamReader stream(agents.port(), chat_id);
    const json waiting = wait_for_invocation(stream, "awaiting_approval");
    CHECK(agents
              .data("POST", "/tools/" + waiting.at("id").get<std::string>() + "/reject",
                    {{"reason", "not now"}})
              .is_null());
    const json failed = wait_for_invocation(stream, "failed");
    CHECK(failed.at("result").get<std::string>().find("not now") != std::string::npos);
    stream.wait_for_chat("idle");
    CHECK(answer_of(agents.chat(chat_id)).find("refused") != std::string::npos);
  }
}

TEST_CASE("always-allow approves a call and every later call of that tool in the chat") {
  Agents agents;
  const json echo = {{"name", "echo"},
                     {"type", "app"},
                     {"require_approval", true},
                     {"app", {{"ref", "infsh/echo"}}}};
  const json script = {
      {"default",
       {{"text", "calling"}, {"tool_calls", {{{"name", "echo"}, {"arguments", {{"n", 1}}}}}}}},
      {"steps",
       {{{"when", {{"tool_result_of", "echo"}}}, {"text", "echoed {{last_tool_result}}"}}}}};
  const std::string chat_id = agents.start(script, json::array({echo}));
  ChatStreamReader stream(agents.port(), chat_id);
  const json waiting = wait_for_invocation(stream, "awaiting_approval");
  CHECK(agents
            .data("POST",
                  "/chats/" + chat_id + "/tools/" + waiting.at("id").get<std::string>() +
                      "/always-allow",
                  {{"tool_name", "echo"}})
            .is_null());
  stream.wait_for_chat("idle");
  CHECK(agents.chat(chat_id).at("agent_data").at("always_allowed_tools") == json::array({"echo"}));
  // The next turn's call runs at once.
  agents.data("POST", "/agents/run",
              {{"chat_id", chat_id},
               {"agent_config",
                {{"name", "scripted"},
                 {"core_app", {{"ref", "infsh/scripted-llm"}, {"setup", script}}},
                 {"tools", {echo}}}},
               {"input", {{"text", "again"}}}});
  stream.wait_for_chat("busy");
  const json idle = stream.wait_for_chat("idle");
  for (const json& event : stream.events()) {
    if (event.at("event") != "chat_messages") continue;
    for (const auto& invocation : event.at("data").at("tool_invocations")) {
      if (invocation.at("id") != waiting.at("id")) {
        CHECK(invocation.at("status") != "awaiting_approval");
      }
    }
  }
  (void)idle;
  // Always-allow needs the invocation's own chat.
  CHECK(
      agents
          .call("POST",
                "/chats/chat_other/tools/" + waiting.at("id").get<std::string>() + "/always-allow",
                {{"tool_name", "echo"}})
          .status == 404);
}

TEST_CASE(
    "an app tool runs the app with its input defaults under the core's arguments, and a session "
    "when enabled") {
  Agents agents;
  const json tools =
      json::array({{{"name", "echo"},
                    {"type", "app"},
                    {"app", {{"ref", "infsh/echo"}, {"input", {{"a", 1}, {"b", 1}}}}}},
                   {{"name", "count"},
                    {"type", "app"},
                    {"app", {{"ref", "infsh/counter"}, {"session_enabled", true}}}}});
  const json script = {{"steps",
                        {{{"tool_calls",
                           {{{"name", "echo"}, {"arguments", {{"b", 2}}}},
                            {{"name", "count"}, {"arguments", json::object()}}}}},
                         {{"text", "done"}}}}};
  const std::string chat_id = agents.start(script, tools);
  const json chat = agents.chat_when_idle(chat_id);
  const json& invocations = first_step_invocations(chat);
  REQUIRE(invocations.size() == 2);
  CHECK(invocations[0].at("status") == "completed");
  CHECK(json::parse(invocations[0].at("result").get<std::string>()) == json{{"a", 1}, {"b", 2}});
  const json counted = json::parse(invocations[1].at("result").get<std::string>());
  CHECK(counted.at("calls") == 1);
  CHECK(counted.at("session_id").get<std::string>().rfind("sess_", 0) == 0);
  // The session stays open for the agent's next calls.
  CHECK(
      agents.data("GET", "/sessions/" + counted.at("session_id").get<std::string>()).at("status") ==
      "active");
}

TEST_CASE(
    "an app tool whose app fails or does not exist fails the invocation, and the core is told") {
  Agents agents;
  const json tools =
      json::array({{{"name", "boom"}, {"type", "app"}, {"app", {{"ref", "infsh/fail"}}}},
                   {{"name", "ghost"}, {"type", "app"}, {"app", {{"ref", "acme/ghost"}}}}});
  const json script = {
      {"steps",
       {{{"tool_calls", {{{"name", "boom"}, {"arguments", json::object()}}, {{"name", "ghost"}}}}},
        {{"text", "ok"}}}}};
  const std::string chat_id = agents.start(script, tools);
  const json chat = agents.chat_when_idle(chat_id);
  const json& invocations = first_step_invocations(chat);
  CHECK(invocations[0].at("status") == "failed");
  CHECK(invocations[0].at("result").get<std::string>().find("failed") != std::string::npos);
  CHECK(invocations[1].at("status") == "failed");
  CHECK(invocations[1].at("result").get<std::string>().find("acme/ghost") != std::string::npos);
}

TEST_CASE(
    "an agent tool runs a sub-agent in a child chat, whose answer is the result, to a capped "
    "depth") {
  TempDir dir;
  const json sub = {{"core_app",
                     {{"ref", "infsh/scripted-llm"},
                      {"setup", {{"steps", {{{"text", "sub got {{user_text}}"}}}}}}}}};
  // An agent that asks itself, deeper and deeper, until the cap refuses; then each level hands
  // the refusal up.
  const json loop = {
      {"core_app",
       {{"ref", "infsh/scripted-llm"},
        {"setup",
         {{"steps",
           {{{"when", {{"tool_result_of", "ask_loop"}}}, {"text", "up: {{last_tool_result}}"}}}},
          {"default",
           {{"tool_calls", {{{"name", "ask_loop"}, {"arguments", {{"message", "deeper"}}}}}}}}}}}},
      {"tools", {{{"name", "ask_loop"}, {"type", "agent"}, {"agent", {{"ref", "acme/loop"}}}}}}};
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_templates = {{"acme/sub", dir.write("sub.json", sub.dump()).string()},
                             {"acme/loop", dir.write("loop.json", loop.dump()).string()}};
  options.agent_max_depth = 2;
  Agents agents(options);

  const json tools = json::array({{{"name", "ask_sub"},
                                   {"type", "agent"},
                                   {"display_name", "Sub"},
                                   {"agent", {{"ref", "acme/sub@latest"}}}}});
  const std::string chat_id =
      agents.start(call_then_quote("ask_sub", {{"message", "ping"}}), tools);
  const json chat = agents.chat_when_idle(chat_id);
  CHECK(answer_of(chat) == "Result: sub got ping");
  const json& invocation = first_step_invocations(chat)[0];
  CHECK(invocation.at("type") == "agent");
  CHECK(invocation.at("display_name") == "Sub");
  const std::string child_id = invocation.at("execution_id");
  const json child = agents.chat(child_id);
  CHECK(child.at("parent_id") == chat_id);
  CHECK(answer_of(child) == "sub got ping");
  const json children = agents.data(
      "POST", "/chats/list",
      {{"filters", {{{"field", "parent_id"}, {"operator", "eq"}, {"value", chat_id}}}}});
  CHECK(children.at("total_items") == 1);
  const json top = agents.data("POST", "/chats/list",
                               {{"filters", {{{"field", "parent_id"}, {"operator", "is_null"}}}}});
  CHECK(top.at("total_items") == 1);

  const json ask_loop =
      json::array({{{"name", "ask_loop"}, {"type", "agent"}, {"agent", {{"ref", "acme/loop"}}}}});
  const std::string deep = agents.start(call_then_quote("ask_loop", {{"message", "go"}}), ask_loop);
  const std::string answer = answer_of(agents.chat_when_idle(deep));
  INFO(answer);
  CHECK(answer.find("Result: up: up: sub-agents may nest 2 deep") == 0);
}

TEST_CASE(
    "an http tool makes a real request with its method, headers and secrets, which never show") {
  std::mutex mutex;
  std::vector<std::string> logs;
  ScriptedServer server([](const RecordedRequest& request) {
    if (request.path == "/fail") return Reply::json(500, {{"error", "down"}});
    return Reply::status(200)
        .header("Content-Type", "text/plain")
        .body("weather in " + request.query + " for " +
              request.header("Authorization").value_or("-"));
  });
  RuntimeOptions options = LocalRuntime::quiet();
  options.secrets = {{"WEATHER_TOKEN", "s3cr3t-value"}};
  options.log_level = LogLevel::debug;
  options.log_sink = [&](LogLevel, std::string_view line) {
    std::lock_guard lock(mutex);
    logs.emplace_back(line);
  };
  Agents agents(options);
  const json tools = json::array(
      {{{"name", "weather"},
        {"type", "http"},
        {"http",
         {{"url", server.base_url() + "/weather?unit=c"},
          {"method", "GET"},
          {"headers", {{"X-Token", "${{ secrets.WEATHER_TOKEN }}"}}},
          {"auth", {{"type", "bearer"}, {"secret", "WEATHER_TOKEN"}}}}}},
       {{"name", "post"}, {"type", "http"}, {"http", {{"url", server.base_url() + "/post"}}}},
       {{"name", "broken"}, {"type", "http"}, {"http", {{"url", server.base_url() + "/fail"}}}},
       {{"name", "nokey"},
        {"type", "http"},
        {"http",
         {{"url", server.base_url() + "/x"},
          {"auth", {{"type", "api_key"}, {"secret", "MISSING"}}}}}}});
  const json script = {{"steps",
                        {{{"tool_calls",
                           {{{"name", "weather"}, {"arguments", {{"city", "Paris"}}}},
                            {{"name", "post"}, {"arguments", {{"n", 1}}}},
                            {{"name", "broken"}},
                            {{"name", "nokey"}}}}},
                         {{"text", "ok"}}}}};
  const std::string chat_id = agents.start(script, tools);
  const json chat = agents.chat_when_idle(chat_id);
  const json& invocations = first_step_invocations(chat);
  REQUIRE(invocations.size() == 4);
  CHECK(invocations[0].at("status") == "completed");
  CHECK(invocations[0].at("result") == "weather in unit=c&city=Paris for Bearer [secret]");
  CHECK(invocations[1].at("status") == "completed");
  CHECK(invocations[2].at("status") == "failed");
  CHECK(invocations[2].at("result").get<std::string>().find("HTTP 500") == 0);
  CHECK(invocations[3].at("status") == "failed");
  CHECK(invocations[3].at("result").get<std::string>().find(
            "the secret MISSING is not set: start infsh-local with --secret MISSING=") == 0);

  std::optional<RecordedRequest> get;
  std::optional<RecordedRequest> post;
  for (const auto& request : server.requests()) {
    if (request.path == "/weather") get = request;
    if (request.path == "/post") post = request;
  }
  REQUIRE(get);
  CHECK(get->method == "GET");
  CHECK(get->header("Authorization") == "Bearer s3cr3t-value");
  CHECK(get->header("X-Token") == "s3cr3t-value");
  REQUIRE(post);
  CHECK(post->method == "POST");
  CHECK(post->json() == json{{"n", 1}});
  CHECK(post->header("Authorization") == std::nullopt);

  // The value is nowhere the runtime shows or says.
  const std::string all = chat.dump() + agents.call("GET", "/chats/" + chat_id + "/messages").body;
  CHECK(all.find("s3cr3t-value") == std::string::npos);
  std::lock_guard lock(mutex);
  for (const auto& line : logs) CHECK(line.find("s3cr3t-value") == std::string::npos);
}

TEST_CASE(
    "a hook tool POSTs the HookPayload and waits for the result on its callback URL, without the "
    "key") {
  ScriptedServer hook([](const RecordedRequest&) { return Reply::json(200, {{"success", true}}); });
  RuntimeOptions options = LocalRuntime::quiet();
  options.api_key = "test-key";
  Agents agents(options);
  const auto call = [&](const std::string& method, const std::string& path, const json& body) {
    return http_request(agents.port(), method, path, body.dump(),
                        {{"Authorization", "Bearer test-key"}});
  };
  const json config = {
      {"name", "hooked"},
      {"core_app",
       {{"ref", "infsh/scripted-llm"}, {"setup", call_then_quote("notify", {{"to", "ops"}})}}},
      {"tools",
       {{{"name", "notify"}, {"type", "hook"}, {"hook", {{"url", hook.base_url() + "/hook"}}}}}}};
  const RawResponse sent =
      call("POST", "/agents/run", {{"agent_config", config}, {"input", {{"text", "go"}}}});
  REQUIRE(sent.status == 200);
  const std::string chat_id = sent.json().at("data").at("user_message").at("chat_id");
  ChatStreamReader stream(agents.port(), chat_id);
  const json waiting = wait_for_invocation(stream, "in_progress");
  REQUIRE(hook.wait_for_requests(1, std::chrono::seconds(10)));
  const json payload = hook.requests()[0].json();
  CHECK(payload.at("tool_invocation_id") == waiting.at("id"));
  CHECK(payload.at("hook_name") == "notify");
  CHECK(payload.at("callback_method") == "POST");
  CHECK(payload.at("arguments") == json{{"to", "ops"}});
  CHECK_FALSE(payload.at("timestamp").get<std::string>().empty());
  const std::string callback = payload.at("callback_url");
  const std::string path = callback.substr(callback.find("/tools/"));
  // The client's submit is not how a hook answers.
  const RawResponse submit =
      call("POST", "/tools/" + waiting.at("id").get<std::string>(), {{"result", "x"}});
  CHECK(submit.status == 409);
  // A wrong token finds nothing; the right one needs no key.
  CHECK(http_request(agents.port(), "POST", path + "x", R"({"result": "x"})").status == 404);
  const RawResponse answered =
      http_request(agents.port(), "POST", path, R"({"result": "delivered"})");
  CHECK(answered.status == 200);
  stream.wait_for_chat("idle");
  const json chat = call("GET", "/chats/" + chat_id, nullptr).json().at("data");
  CHECK(answer_of(chat) == "Result: delivered");
  CHECK(http_request(agents.port(), "POST", path, R"({"result": "again"})").status == 404);
}

TEST_CASE("mcp tools and unknown tools fail their invocation with a reason the core reads") {
  Agents agents;
  const json tools = json::array({{{"name", "remote"},
                                   {"type", "mcp"},
                                   {"mcp", {{"integration_id", "i"}, {"tool_name", "t"}}}}});
  const json script = {
      {"steps",
       {{{"tool_calls", {{{"name", "remote"}}}}},
        {{"text", "1: {{last_tool_result}}"}, {"tool_calls", {{{"name", "nope"}}}}},
        {{"text", "2: {{last_tool_result}}"},
         {"tool_calls", {{{"name", "remote"}, {"arguments", "{not json"}}}}},
        {{"text", "3: {{last_tool_result}}"}}}}};
  const std::string chat_id = agents.start(script, tools);
  ChatStreamReader stream(agents.port(), chat_id);
  stream.wait_for_chat("idle");
  std::vector<std::string> texts;
  const json chat = agents.chat(chat_id);
  for (const auto& message : chat.at("chat_messages")) {
    if (message.at("role") == "assistant") texts.push_back(message_text(message));
  }
  REQUIRE(texts.size() == 4);
  CHECK(texts[1].find("1: MCP tools are not available in infsh-local") == 0);
  CHECK(texts[2] == "2: there is no tool called 'nope'");
  CHECK(texts[3].find("3: the arguments of this call are not a JSON object") == 0);
}

TEST_CASE(
    "finish checks its arguments against output_schema and stores them as the chat's output") {
  Agents agents;
  const json schema = {{"type", "object"},
                       {"properties", {{"answer", {{"type", "string"}}}}},
                       {"required", {"answer"}},
                       {"additionalProperties", false}};
  const json script = {{"steps",
                        {{{"text", "trying"}, {"finish", {{"wrong", "x"}}}},
                         {{"when", {{"tool_result_contains", "output_schema"}}},
                          {"text", "fixed"},
                          {"finish", {{"answer", "42"}}}}}}};
  const std::string chat_id =
      agents.start(script, json::array(), "go",
                   {{"internal_tools", {{"finish", true}}}, {"output_schema", schema}});
  ChatStreamReader stream(agents.port(), chat_id);
  const json idle = stream.wait_for_chat("idle");
  CHECK(idle.at("data").at("output") == json{{"answer", "42"}});
  const json chat = agents.chat(chat_id);
  CHECK(chat.at("output") == json{{"answer", "42"}});
  const json& first = first_step_invocations(chat)[0];
  CHECK(first.at("function").at("name") == "finish");
  CHECK(first.at("status") == "failed");
  const std::string problems = first.at("result");
  CHECK(problems.find("$.answer: is required") != std::string::npos);
  CHECK(problems.find("$.wrong: is not a property the schema allows") != std::string::npos);
  // The turn ended with the finish call: no step after it.
  CHECK(chat.at("chat_messages").size() == 3);
}

TEST_CASE("the plan and memory tools keep their state in agent_data") {
  Agents agents;
  const json script = {
      {"steps",
       {{{"tool_calls",
          {{{"name", "plan_create"},
            {"arguments", {{"steps", {{{"title", "look"}}, {{"title", "answer"}}}}}}},
           {{"name", "memory_set"}, {"arguments", {{"key", "city"}, {"value", "Paris"}}}}}}},
        {{"tool_calls",
          {{{"name", "plan_update"}, {"arguments", {{"index", 0}, {"status", "completed"}}}}}}},
        {{"tool_calls", {{{"name", "memory_get"}, {"arguments", {{"key", "city"}}}}}}},
        {{"text", "remembered {{last_tool_result}}"}}}}};
  const std::string chat_id = agents.start(
      script, json::array(), "go", {{"internal_tools", {{"plan", true}, {"memory", true}}}});
  const json chat = agents.chat_when_idle(chat_id);
  CHECK(answer_of(chat) == "remembered Paris");
  const json& data = chat.at("agent_data");
  CHECK(data.at("memory") == json{{"city", "Paris"}});
  REQUIRE(data.at("plan_steps").size() == 2);
  CHECK(data.at("plan_steps")[0].at("title") == "look");
  CHECK(data.at("plan_steps")[0].at("status") == "completed");
  CHECK(data.at("plan_steps")[1].at("status") == "pending");
}

TEST_CASE("a turn that goes past --agent-max-steps fails with a message saying so") {
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_max_steps = 3;
  Agents agents(options);
  const json script = {
      {"default",
       {{"text", "again"},
        {"tool_calls", {{{"name", "memory_get"}, {"arguments", {{"key", "k"}}}}}}}},
      {"steps", json::array()}};
  const std::string chat_id =
      agents.start(script, json::array(), "go", {{"internal_tools", {{"memory", true}}}});
  ChatStreamReader stream(agents.port(), chat_id);
  const json failed = stream.wait_for_message("assistant", "failed");
  stream.wait_for_chat("idle");
  const std::string error = failed.at("data").at("content").back().at("error");
  CHECK(error.find("after 3 steps") != std::string::npos);
  CHECK(error.find("--agent-max-steps") != std::string::npos);
  std::size_t cores = 0;
  const json chat = agents.chat(chat_id);
  for (const auto& message : chat.at("chat_messages")) {
    if (!message.at("task_id").is_null()) ++cores;
  }
  CHECK(cores == 3);
}

TEST_CASE("stop while a client tool waits cancels the invocation and ends the turn") {
  Agents agents;
  const std::string chat_id = agents.start(call_then_quote("get_weather", {{"city", "Oslo"}}),
                                           json::array({client_tool("get_weather")}));
  ChatStreamReader stream(agents.port(), chat_id);
  const json waiting = wait_for_invocation(stream, "awaiting_input");
  CHECK(agents.data("POST", "/chats/" + chat_id + "/stop").is_null());
  const json cancelled = wait_for_invocation(stream, "cancelled");
  CHECK(cancelled.at("id") == waiting.at("id"));
  stream.wait_for_chat("idle");
  const RawResponse late =
      agents.call("POST", "/tools/" + waiting.at("id").get<std::string>(), {{"result", "x"}});
  CHECK(late.status == 409);
  CHECK(late.json().at("detail").get<std::string>().find("cancelled") != std::string::npos);
}

TEST_CASE("a client tool still waits after a restart, and its result goes on with the turn") {
  TempDir data;
  RuntimeOptions options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  std::string chat_id;
  std::string invocation_id;
  {
    Agents agents(options);
    chat_id = agents.start(call_then_quote("get_weather", {{"city", "Rome"}}),
                           json::array({client_tool("get_weather")}));
    ChatStreamReader stream(agents.port(), chat_id);
    invocation_id = wait_for_invocation(stream, "awaiting_input").at("id");
    stream.wait_for_chat("awaiting_input");
  }
  Agents agents(options);
  const json chat = agents.chat(chat_id);
  CHECK(chat.at("status") == "awaiting_input");
  CHECK(first_step_invocations(chat)[0].at("status") == "awaiting_input");
  ChatStreamReader stream(agents.port(), chat_id);
  CHECK(agents.data("POST", "/tools/" + invocation_id, {{"result", "warm"}}).is_null());
  stream.wait_for_chat("idle");
  CHECK(answer_of(agents.chat(chat_id)) == "Result: warm");
}

TEST_CASE("the README's agent example runs as written: template, client tool, result, answer") {
  // The weather.json of README.md's "Agents locally", between its heredoc markers.
  const std::string readme = read_file(INFERENCESH_README_PATH);
  const std::string open = "cat > weather.json <<'EOF'\n";
  const auto start = readme.find(open);
  REQUIRE(start != std::string::npos);
  const auto end = readme.find("\nEOF\n", start);
  REQUIRE(end != std::string::npos);
  const std::string config = readme.substr(start + open.size(), end - start - open.size());
  TempDir dir;
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_templates.push_back(
      parse_agent_template("acme/weather=" + dir.write("weather.json", config).string()));
  Agents agents(options);
  const json sent =
      agents.data("POST", "/agents/run",
                  {{"agent", "acme/weather@latest"}, {"input", {{"text", "Weather in Paris?"}}}});
  const std::string chat_id = sent.at("assistant_message").at("chat_id");
  ChatStreamReader stream(agents.port(), chat_id);
  const json invocation = wait_for_invocation(stream, "awaiting_input");
  CHECK(
      agents.data("POST", "/tools/" + invocation.at("id").get<std::string>(), {{"result", "sunny"}})
          .is_null());
  stream.wait_for_chat("idle");
  CHECK(answer_of(agents.chat(chat_id)) == "It is sunny in Paris.");
}
