// The contracts of the built-in demo apps, which other tests and tools rely on.

#include <catch2/catch.hpp>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

TEST_CASE("infsh/echo returns its input as output") {
  LocalRuntime local;
  const json input = {{"text", "héllo"}, {"list", {1, 2.5, nullptr, true}}, {"nested", {{"a", {}}}}};
  CHECK(local.client().tasks.run({{"app", "infsh/echo"}, {"input", input}}).output == input);
}

TEST_CASE("infsh/progress defaults to five steps") {
  LocalRuntime local;
  const inf::Task done =
      local.client().tasks.run({{"app", "infsh/progress"}, {"input", {{"delay_ms", 0}}}});
  CHECK(done.output == json{{"steps_done", 5}});
  CHECK(done.logs.size() == 5);
}

TEST_CASE("infsh/progress honours a cancel within one step") {
  LocalRuntime local;
  auto client = local.client();
  // One step of a minute: only an early wake-up on cancel lets this test end quickly.
  const inf::Task queued = client.tasks.run(
      {{"app", "infsh/progress"}, {"input", {{"steps", 3}, {"delay_ms", 60000}}}}, {.wait = false});
  REQUIRE(wait_until([&] { return client.tasks.get(queued.id).status == inf::TaskStatus::running; }));
  const auto started = std::chrono::steady_clock::now();
  client.tasks.cancel(queued.id);
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::CancelledError);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
  CHECK(client.tasks.get(queued.id).logs.empty());
}

TEST_CASE("infsh/fail fails the task with the given message") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(
      {{"app", "infsh/fail"}, {"input", {{"message", "exactly this"}}}}, {.wait = false});
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::TaskFailedError);
  const inf::Task failed = client.tasks.get(queued.id);
  CHECK(failed.status == inf::TaskStatus::failed);
  CHECK(failed.error == "exactly this");
}

TEST_CASE("infsh/setup-counter shows warm reuse of an instance with equal setup") {
  LocalRuntime local;
  auto client = local.client();
  const auto run = [&](const std::string& model) {
    return client.tasks.run({{"app", "infsh/setup-counter"}, {"setup", {{"model", model}}}}).output;
  };
  CHECK(run("small") == json{{"setup_calls", 1}, {"model", "small"}});
  CHECK(run("small") == json{{"setup_calls", 1}, {"model", "small"}});  // warm: no new setup
  CHECK(run("large") == json{{"setup_calls", 1}, {"model", "large"}});
  CHECK(run("small") == json{{"setup_calls", 1}, {"model", "small"}});
  CHECK(local.runtime().stats().warm_instances >= 2);
}

