// Sessions through the local runtime, end to end with the C++ client: a warm instance leased
// per session, its state between calls, the idle timeout, keepalive, end, and the typed errors
// of unknown, ended and expired sessions.

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

json counter(const std::string& session) {
  return {{"app", "infsh/counter"}, {"input", json::object()}, {"session", session}};
}

json new_session(const std::string& app, int timeout) {
  return {
      {"app", app}, {"input", json::object()}, {"session", "new"}, {"session_timeout", timeout}};
}

std::string error_code(const RawResponse& response) {
  return response.json().at("error").at("code").get<std::string>();
}

// An in-process app whose instance cannot be reused once it has run, and throws when asked why
// (AppInstance::lost_reason is app code like any other). Its runs wait for the gate.
class LosingApp final : public infsh::local::App {
 public:
  explicit LosingApp(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::unique_ptr<infsh::local::AppInstance> setup(const json&,
                                                   infsh::local::AppContext&) override {
    return std::make_unique<Instance>(gate_);
  }

 private:
  class Instance final : public infsh::local::AppInstance {
   public:
    explicit Instance(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
    json run(const std::string&, const json&, infsh::local::AppContext&) override {
      gate_->wait();
      ran_ = true;
      return {{"ran", true}};
    }
    bool reusable() const noexcept override { return !ran_; }
    std::string lost_reason() const override { throw std::runtime_error("no reason to give"); }

   private:
    std::shared_ptr<Gate> gate_;
    std::atomic<bool> ran_{false};
  };

  std::shared_ptr<Gate> gate_;
};

}  // namespace

TEST_CASE("a session keeps its instance between calls, so infsh/counter counts 1, 2, 3") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task first = client.tasks.run(counter("new"));
  CHECK(first.output == json{{"calls", 1}});
  REQUIRE(first.session_id.rfind("sess_", 0) == 0);
  const inf::Task second = client.tasks.run(counter(first.session_id));
  const inf::Task third = client.tasks.run(counter(first.session_id));
  CHECK(second.output == json{{"calls", 2}});
  CHECK(third.output == json{{"calls", 3}});
  CHECK(second.session_id == first.session_id);
  CHECK(third.session_id == first.session_id);

  const inf::Session info = client.sessions.get(first.session_id);
  CHECK(info.id == first.session_id);
  CHECK(info.status == "active");
  CHECK(info.call_count == 3);
  CHECK(info.idle_timeout == 60);
  CHECK(info.app_id == "infsh/counter");
  CHECK_FALSE(info.last_call_at.empty());
  CHECK(info.raw.at("task_id") == first.id);
  CHECK(info.raw.at("ended_at").is_null());
  CHECK(local.runtime().stats().active_sessions == 1);

  // Another session has an instance of its own.
  const inf::Task other = client.tasks.run(counter("new"));
  CHECK(other.session_id != first.session_id);
  CHECK(other.output == json{{"calls", 1}});
}

TEST_CASE("every update of a session task carries the real session id") {
  // The app waits at the gate until its partial output has been seen: the stream cannot start
  // at the final state.
  LocalRuntime local;
  const auto app = std::make_shared<GatedApp>();
  local.runtime().apps().add("test/gated", app);
  auto client = local.client();
  std::vector<inf::Task> updates;
  for (const inf::Task& update : client.tasks.run(
           {{"app", "test/gated"}, {"input", json::object()}, {"session", "new"}}, inf::stream)) {
    updates.push_back(update);
    if (update.output == json{{"stage", "started"}}) app->gate->open();
  }
  REQUIRE(updates.size() >= 2);
  CHECK(updates.back().status == inf::TaskStatus::completed);
  const std::string id = updates.front().session_id;
  CHECK(id.rfind("sess_", 0) == 0);
  for (const auto& update : updates) CHECK(update.session_id == id);
  // So does the created task, and every line of the raw stream.
  const auto created =
      http_request(local.port(), "POST", "/apps/run", R"({"app":"infsh/echo","session":"new"})");
  CHECK(created.json().at("data").at("session_id").get<std::string>().rfind("sess_", 0) == 0);
}

TEST_CASE("session_timeout outside 1 to 3600, or without a new session, is refused naming it") {
  LocalRuntime local;
  for (const std::string body :
       {R"({"app":"infsh/echo","session":"new","session_timeout":0})",
        R"({"app":"infsh/echo","session":"new","session_timeout":3601})",
        R"({"app":"infsh/echo","session":"new","session_timeout":-5})",
        R"({"app":"infsh/echo","session":"new","session_timeout":1.5})",
        R"({"app":"infsh/echo","session":"new","session_timeout":"60"})",
        R"({"app":"infsh/echo","session_timeout":60})",
        R"({"app":"infsh/echo","session":"sess_x","session_timeout":60})"}) {
    INFO(body);
    const auto response = http_request(local.port(), "POST", "/apps/run", body);
    CHECK(response.status == 422);
    CHECK(response.json().at("detail").get<std::string>().find("'session_timeout'") !=
          std::string::npos);
  }
  CHECK(http_request(local.port(), "POST", "/apps/run",
                     R"({"app":"infsh/echo","session":"new","session_timeout":3600})")
            .status == 200);
  CHECK(http_request(local.port(), "POST", "/apps/run", R"({"app":"infsh/echo","session":""})")
            .status == 422);
  CHECK(local.runtime().stats().active_sessions == 1);
}

TEST_CASE("calls in an unknown, ended or expired session fail with the typed errors") {
  LocalRuntime local;
  auto client = local.client();
  CHECK_THROWS_AS(client.tasks.run(counter("sess_unknown")), inf::SessionNotFoundError);
  CHECK_THROWS_AS(client.sessions.get("sess_unknown"), inf::SessionNotFoundError);
  CHECK_THROWS_AS(client.sessions.keepalive("sess_unknown"), inf::SessionNotFoundError);
  CHECK_THROWS_AS(client.sessions.end("sess_unknown"), inf::SessionNotFoundError);

  const std::string ended = client.tasks.run(counter("new")).session_id;
  client.sessions.end(ended);
  CHECK_THROWS_AS(client.tasks.run(counter(ended)), inf::SessionEndedError);
  CHECK_THROWS_AS(client.sessions.keepalive(ended), inf::SessionEndedError);
  CHECK_NOTHROW(client.sessions.end(ended));  // ending again changes nothing
  const inf::Session after_end = client.sessions.get(ended);
  CHECK(after_end.status == "ended");
  CHECK_FALSE(after_end.ended_at.empty());

  const std::string expired = client.tasks.run(new_session("infsh/counter", 1)).session_id;
  CHECK(wait_until([&] { return client.sessions.get(expired).status == "expired"; },
                   std::chrono::seconds(5)));
  CHECK_THROWS_AS(client.tasks.run(counter(expired)), inf::SessionExpiredError);
  CHECK_THROWS_AS(client.sessions.keepalive(expired), inf::SessionExpiredError);
  CHECK(local.runtime().stats().active_sessions == 0);

  // On the wire: the status, `error.code` and a `detail` every client reads.
  const auto raw = http_request(local.port(), "POST", "/apps/run", counter(expired).dump());
  CHECK(raw.status == 410);
  CHECK(error_code(raw) == "SESSION_EXPIRED");
  CHECK(raw.json().at("detail").get<std::string>().find(expired) != std::string::npos);
  const auto raw_ended = http_request(local.port(), "POST", "/apps/run", counter(ended).dump());
  CHECK(raw_ended.status == 410);
  CHECK(error_code(raw_ended) == "SESSION_ENDED");
  const auto raw_unknown = http_request(local.port(), "GET", "/sessions/sess_nope");
  CHECK(raw_unknown.status == 404);
  CHECK(error_code(raw_unknown) == "SESSION_NOT_FOUND");
}

TEST_CASE("keepalive slides the expiry, and a session expires only after its idle timeout") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task first = client.tasks.run(new_session("infsh/counter", 2));
  const inf::Session opened = client.sessions.get(first.session_id);
  CHECK(opened.idle_timeout == 2);
  // Keepalives every 0.5 s keep a 2-second session alive well past 2 seconds.
  const auto start = std::chrono::steady_clock::now();
  std::string last_expiry = opened.expires_at;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(3000)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const inf::Session kept = client.sessions.keepalive(first.session_id);
    CHECK(kept.status == "active");
    CHECK(kept.expires_at > last_expiry);  // RFC 3339 in UTC sorts as text
    last_expiry = kept.expires_at;
  }
  CHECK(client.tasks.run(counter(first.session_id)).output == json{{"calls", 2}});
  // Left alone, it expires.
  CHECK(wait_until([&] { return client.sessions.get(first.session_id).status == "expired"; },
                   std::chrono::seconds(5)));
  const inf::Session gone = client.sessions.get(first.session_id);
  CHECK(gone.call_count == 2);
  CHECK_FALSE(gone.ended_at.empty());
}

TEST_CASE("calls in one session run one at a time, in the order they came") {
  LocalRuntime local;
  auto client = local.client();
  const std::string session =
      client.tasks.run({{"app", "infsh/progress"}, {"input", {{"steps", 0}}}, {"session", "new"}})
          .session_id;
  auto call = [&](int steps, int delay_ms) {
    return client.tasks
        .run({{"app", "infsh/progress"},
              {"input", {{"steps", steps}, {"delay_ms", delay_ms}}},
              {"session", session}},
             {.wait = false})
        .id;
  };
  const std::string slow = call(3, 100);
  const std::string quick = call(1, 0);
  CHECK(wait_until([&] { return client.tasks.get(slow).status == inf::TaskStatus::running; }));
  CHECK(client.tasks.get(quick).status == inf::TaskStatus::queued);  // waits for the instance
  const inf::Task slow_done = client.tasks.wait_for_completion(slow);
  const inf::Task quick_done = client.tasks.wait_for_completion(quick);
  CHECK(quick_done.output == json{{"steps_done", 1}});
  // The quick call started running only after the slow one completed.
  std::string slow_completed;
  std::string quick_running;
  for (const auto& event : slow_done.raw.at("events")) {
    if (event.at("status") == 10) slow_completed = event.at("created_at");
  }
  for (const auto& event : quick_done.raw.at("events")) {
    if (event.at("status") == 7 && quick_running.empty()) quick_running = event.at("created_at");
  }
  CHECK_FALSE(slow_completed.empty());
  CHECK(quick_running >= slow_completed);
  CHECK(client.sessions.get(session).call_count == 3);
}

TEST_CASE("ending a session fails the calls still waiting for it") {
  LocalRuntime local;
  auto client = local.client();
  const std::string session =
      client.tasks.run({{"app", "infsh/progress"}, {"input", {{"steps", 0}}}, {"session", "new"}})
          .session_id;
  const std::string running = client.tasks
                                  .run({{"app", "infsh/progress"},
                                        {"input", {{"steps", 2}, {"delay_ms", 100}}},
                                        {"session", session}},
                                       {.wait = false})
                                  .id;
  const std::string waiting =
      client.tasks
          .run({{"app", "infsh/progress"}, {"input", {{"steps", 1}}}, {"session", session}},
               {.wait = false})
          .id;
  CHECK(wait_until([&] { return client.tasks.get(running).status == inf::TaskStatus::running; }));
  client.sessions.end(session);
  CHECK_THROWS_WITH(client.tasks.wait_for_completion(waiting),
                    Catch::Contains("was ended before this call could run"));
  // The running call finishes on its instance.
  CHECK(client.tasks.wait_for_completion(running).output == json{{"steps_done", 2}});
  CHECK(client.sessions.get(session).status == "ended");
}

TEST_CASE("a session belongs to its app") {
  LocalRuntime local;
  auto client = local.client();
  const std::string session = client.tasks.run(counter("new")).session_id;
  try {
    client.tasks.run({{"app", "infsh/echo"}, {"input", json::object()}, {"session", session}});
    FAIL("expected a 422");
  } catch (const inf::UnprocessableEntityError& e) {
    CHECK_THAT(e.what(), Catch::Contains("infsh/counter"));
  }
}

TEST_CASE("the list of sessions is newest first, and empty as a list, never null") {
  LocalRuntime local;
  auto client = local.client();
  const auto empty = http_request(local.port(), "GET", "/sessions");
  CHECK(empty.json().at("data") == json::array());
  CHECK(http_request(local.port(), "GET", "/sessions", {}, {{"X-API-Version", "2"}}).body == "[]");
  CHECK(client.sessions.list().empty());

  const std::string a = client.tasks.run(counter("new")).session_id;
  const std::string b = client.tasks.run(counter("new")).session_id;
  client.sessions.end(a);
  const auto sessions = client.sessions.list();
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].id == b);
  CHECK(sessions[0].status == "active");
  CHECK(sessions[1].id == a);
  CHECK(sessions[1].status == "ended");
}

TEST_CASE("a session handle runs its calls in the session and ends it on scope exit") {
  LocalRuntime local;
  auto client = local.client();
  std::string id;
  {
    auto session = client.sessions.open("infsh/counter", {.session_timeout = 30});
    id = session.id();
    CHECK(session.first_result().output == json{{"calls", 1}});
    CHECK(session.call({}).output == json{{"calls", 2}});
    CHECK(session.keepalive().status == "active");
    CHECK(session.info().idle_timeout == 30);
  }
  CHECK(client.sessions.get(id).status == "ended");
}

TEST_CASE(
    "a session whose instance is lost without a reason still ends its call, and the next "
    "call runs") {
  LocalRuntime local;
  const auto gate = std::make_shared<Gate>();
  local.runtime().apps().add("test/losing", std::make_shared<LosingApp>(gate));
  auto client = local.client();
  const json call = {{"app", "test/losing"}, {"input", json::object()}};
  json first_call = call;
  first_call["session"] = "new";
  const inf::Task first = client.tasks.run(first_call, {.wait = false});
  json second_call = call;
  second_call["session"] = first.session_id;
  const inf::Task second = client.tasks.run(second_call, {.wait = false});
  CHECK(client.tasks.get(second.id).status == inf::TaskStatus::queued);  // behind the first
  gate->open();

  // The first call ran: it completes, and its session is lost with it.
  REQUIRE(
      wait_until([&] { return client.tasks.get(first.id).status == inf::TaskStatus::completed; }));
  CHECK(client.tasks.get(first.id).output == json{{"ran", true}});
  const inf::Session lost = client.sessions.get(first.session_id);
  CHECK(lost.status == "ended");
  CHECK(lost.raw.at("error").at("code") == "WORKER_LOST");
  CHECK_THAT(lost.raw.at("error").at("message").get<std::string>(),
             Catch::Contains("it cannot be reused"));
  // The call waiting behind it is not left queued: it runs, and fails with the session's loss.
  REQUIRE(
      wait_until([&] { return client.tasks.get(second.id).status == inf::TaskStatus::failed; }));
  CHECK_THAT(client.tasks.get(second.id).error, Catch::Contains("was lost"));
  const auto next = http_request(local.port(), "POST", "/apps/run", second_call.dump());
  CHECK(next.status == 500);
  CHECK(error_code(next) == "WORKER_LOST");
  CHECK(local.runtime().stats().active_tasks == 0);
}
