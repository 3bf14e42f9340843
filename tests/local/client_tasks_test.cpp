// The C++ client against the local runtime, through real sockets: every way of following a task.

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

json progress(int steps, int delay_ms) {
  return {{"app", "infsh/progress"}, {"input", {{"steps", steps}, {"delay_ms", delay_ms}}}};
}

// Waits (bounded) until the task reports `status` through the API.
bool reaches(const inf::Client& client, const std::string& id, inf::TaskStatus status) {
  return wait_until([&] { return client.tasks.get(id).status == status; });
}

}  // namespace

TEST_CASE("a run waits for the task and returns its output") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task done =
      client.tasks.run({{"app", "infsh/echo"}, {"input", {{"x", 1}, {"text", "hi"}}}});
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK(done.output == json{{"x", 1}, {"text", "hi"}});
  CHECK(done.app == "infsh/echo");
  CHECK_FALSE(done.id.empty());
}

TEST_CASE("a run without waiting returns the queued task at once") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(progress(3, 5), {.wait = false});
  CHECK_FALSE(queued.is_terminal());
  CHECK(queued.status == inf::TaskStatus::queued);
  CHECK(queued.input == json{{"steps", 3}, {"delay_ms", 5}});
  const inf::Task done = client.tasks.wait_for_completion(queued.id);
  CHECK(done.id == queued.id);
  CHECK(done.output == json{{"steps_done", 3}});
}

TEST_CASE("a streamed run yields partial outputs and logs, then the completed task") {
  LocalRuntime local;
  auto client = local.client();
  std::vector<inf::Task> updates;
  auto stream = client.tasks.run(progress(3, 5), inf::stream);
  for (const inf::Task& update : stream) updates.push_back(update);
  REQUIRE_FALSE(updates.empty());
  CHECK(updates.back().status == inf::TaskStatus::completed);
  CHECK(updates.back().output == json{{"steps_done", 3}});
  REQUIRE(updates.back().logs.size() == 3);
  CHECK(updates.back().logs[0].content == "step 1/3");
  bool saw_partial = false;
  for (const auto& update : updates) {
    if (update.status == inf::TaskStatus::running && update.output.is_object() &&
        update.output.contains("step")) {
      saw_partial = true;
    }
  }
  CHECK(saw_partial);
  CHECK(stream.result().output == json{{"steps_done", 3}});
}

TEST_CASE("get returns the task's current state") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task done = client.tasks.run(progress(2, 1));
  const inf::Task fetched = client.tasks.get(done.id);
  CHECK(fetched.id == done.id);
  CHECK(fetched.status == inf::TaskStatus::completed);
  CHECK(fetched.output == json{{"steps_done", 2}});
  CHECK(fetched.function == "run");
  CHECK(fetched.logs.size() == 2);
  CHECK(fetched.raw.contains("session_id"));
  CHECK(fetched.raw.at("events").size() >= 4);  // received, queued, ..., completed
}

TEST_CASE("cancelling a running task ends its wait with CancelledError") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(progress(100000, 5), {.wait = false});
  REQUIRE(reaches(client, queued.id, inf::TaskStatus::running));
  auto waiter = std::async(std::launch::async, [&] {
    return client.tasks.wait_for_completion(queued.id);
  });
  client.tasks.cancel(queued.id);
  try {
    waiter.get();
    FAIL("the wait should have thrown CancelledError");
  } catch (const inf::CancelledError& e) {
    REQUIRE(e.task() != nullptr);
    CHECK(e.task()->status == inf::TaskStatus::cancelled);
  }
  const inf::Task after = client.tasks.get(queued.id);
  CHECK(after.status == inf::TaskStatus::cancelled);
  bool passed_cancelling = false;
  for (const auto& event : after.raw.at("events")) passed_cancelling |= event.at("status") == 8;
  CHECK(passed_cancelling);
}

TEST_CASE("cancelling a finished task is harmless") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task done = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"a", 1}}}});
  CHECK_NOTHROW(client.tasks.cancel(done.id));
  CHECK(client.tasks.get(done.id).status == inf::TaskStatus::completed);
}

TEST_CASE("a failing app raises TaskFailedError carrying the app's message") {
  LocalRuntime local;
  auto client = local.client();
  try {
    client.tasks.run({{"app", "infsh/fail"}, {"input", {{"message", "gpu on fire"}}}});
    FAIL("the run should have thrown TaskFailedError");
  } catch (const inf::TaskFailedError& e) {
    CHECK(std::string(e.what()).find("gpu on fire") != std::string::npos);
    CHECK(e.task().error == "gpu on fire");
    CHECK(e.task().status == inf::TaskStatus::failed);
  }
}

TEST_CASE("polling follows a task to completion") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(progress(3, 5), {.wait = false});
  const inf::Task done =
      client.tasks.wait_for_completion(queued.id, {.mode = inf::WaitMode::poll});
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK(done.output == json{{"steps_done", 3}});
}

TEST_CASE("polling reports a failure as TaskFailedError") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(
      {{"app", "infsh/fail"}, {"input", {{"message", "polled failure"}}}}, {.wait = false});
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id, {.mode = inf::WaitMode::poll}),
                  inf::TaskFailedError);
}

TEST_CASE("a stream the runtime drops is reopened and the wait still completes") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(progress(60, 10), {.wait = false});
  auto waiter = std::async(std::launch::async, [&] {
    return client.tasks.wait_for_completion(queued.id);
  });
  REQUIRE(wait_until([&] { return local.runtime().stats().open_streams >= 1; }));
  local.runtime().drop_streams();
  REQUIRE(wait_until([&] { return local.runtime().stats().streams_opened >= 2; }));
  const inf::Task done = waiter.get();
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK(done.output == json{{"steps_done", 60}});
}

TEST_CASE("a wrong API key is refused with AuthenticationError") {
  auto options = LocalRuntime::quiet();
  options.api_key = "right-key";
  LocalRuntime local(options);
  CHECK_THROWS_AS(local.client("wrong-key").tasks.run({{"app", "infsh/echo"}}),
                  inf::AuthenticationError);
  const inf::Task done = local.client("right-key").tasks.run({{"app", "infsh/echo"}});
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK_THROWS_AS(local.client("wrong-key").tasks.get(done.id), inf::AuthenticationError);
}

TEST_CASE("an unknown task is reported as NotFoundError") {
  LocalRuntime local;
  CHECK_THROWS_AS(local.client().tasks.get("task_doesnotexist"), inf::NotFoundError);
}

TEST_CASE("an unknown app is refused with NotFoundError naming the app") {
  LocalRuntime local;
  try {
    local.client().tasks.run({{"app", "nobody/nothing"}, {"input", json::object()}});
    FAIL("the run should have thrown NotFoundError");
  } catch (const inf::NotFoundError& e) {
    CHECK(e.detail().find("nobody/nothing") != std::string::npos);
  }
}

TEST_CASE("invalid app input is refused with UnprocessableEntityError naming the field") {
  LocalRuntime local;
  try {
    local.client().tasks.run({{"app", "infsh/progress"}, {"input", {{"steps", "many"}}}});
    FAIL("the run should have thrown UnprocessableEntityError");
  } catch (const inf::UnprocessableEntityError& e) {
    CHECK(e.detail().find("input.steps") != std::string::npos);
  }
}
