// The async client against the local runtime, through real sockets: run and wait, failures,
// cancellation, dropped streams, shutdown with a thousand waits in flight, a loop driven by
// the program, and a coroutine.

#include <poll.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

inf::ClientOptions async_options(const LocalRuntime& local) { return local.client_options(); }

json progress(int steps, int delay_ms) {
  return {{"app", "infsh/progress"}, {"input", {{"steps", steps}, {"delay_ms", delay_ms}}}};
}

}  // namespace

TEST_CASE("async runs on one loop complete concurrently with their own outputs", "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  std::vector<inf::future<inf::Task>> runs;
  for (int i = 0; i < 50; ++i) {
    runs.push_back(client.tasks.run({{"app", "infsh/echo"}, {"input", {{"i", i}}}}));
  }
  for (int i = 0; i < 50; ++i) {
    const inf::Task done = runs[static_cast<std::size_t>(i)].get();
    CHECK(done.status == inf::TaskStatus::completed);
    CHECK(done.output == json{{"i", i}});
  }
}

TEST_CASE("an async run streams partial outputs to its callback before the final task", "[async]") {
  // The app reports a partial output, then waits at the gate until the callback has seen it:
  // the final state cannot arrive first.
  LocalRuntime local;
  const auto app = std::make_shared<GatedApp>();
  local.runtime().apps().add("test/gated", app);
  auto client = inf::async_inference(async_options(local));
  std::vector<inf::Task> updates;  // written on the loop thread, read after get()
  inf::RunOptions options;
  options.on_update = [&updates, &app](const inf::Task& t) {
    updates.push_back(t);
    if (t.output == json{{"stage", "started"}}) app->gate->open();
  };
  const inf::Task done =
      client.tasks.run({{"app", "test/gated"}, {"input", {{"n", 1}}}}, options).get();
  CHECK(done.output == json{{"n", 1}});
  REQUIRE(updates.size() >= 2);
  CHECK(updates.back().status == inf::TaskStatus::completed);
  const auto partial = std::find_if(updates.begin(), updates.end(), [](const inf::Task& t) {
    return t.output == json{{"stage", "started"}};
  });
  REQUIRE(partial != updates.end());
  CHECK(partial->status == inf::TaskStatus::running);
}

TEST_CASE("an async run of a failing app raises TaskFailedError, and so does polling", "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  const json failing = {{"app", "infsh/fail"}, {"input", {{"message", "gpu on fire"}}}};
  CHECK_THROWS_AS(client.tasks.run(failing).get(), inf::TaskFailedError);
  CHECK_THROWS_AS(client.tasks.run(failing, {.mode = inf::WaitMode::poll}).get(),
                  inf::TaskFailedError);
}

TEST_CASE(
    "cancelling a running task through the async client ends its wait with "
    "CancelledError",
    "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  const inf::Task queued = client.tasks.run(progress(100000, 5), {.wait = false}).get();
  auto wait = client.tasks.wait_for_completion(queued.id);
  REQUIRE(wait_until([&] { return local.runtime().stats().open_streams >= 1; }));
  client.tasks.cancel(queued.id).get();
  try {
    wait.get();
    FAIL("no exception");
  } catch (const inf::CancelledError& e) {
    REQUIRE(e.task() != nullptr);
    CHECK(e.task()->status == inf::TaskStatus::cancelled);
  }
  CHECK(client.tasks.get(queued.id).get().status == inf::TaskStatus::cancelled);
}

TEST_CASE("an async wait reopens a stream the runtime drops and still completes", "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  const inf::Task queued = client.tasks.run(progress(60, 10), {.wait = false}).get();
  auto wait = client.tasks.wait_for_completion(queued.id);
  REQUIRE(wait_until([&] { return local.runtime().stats().open_streams >= 1; }));
  local.runtime().drop_streams();
  REQUIRE(wait_until([&] { return local.runtime().stats().streams_opened >= 2; }));
  const inf::Task done = wait.get();
  CHECK(done.output == json{{"steps_done", 60}});
}

TEST_CASE("an async stream of an existing task reads on through a stream the runtime drops",
          "[async][stream]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  const inf::Task queued = client.tasks.run(progress(60, 10), {.wait = false}).get();
  auto updates = client.tasks.stream(queued.id);
  REQUIRE(updates.next().get());
  local.runtime().drop_streams();
  int last_step = -1;
  bool steps_in_order = true;
  while (auto update = updates.next().get()) {
    const int step = update->output.is_object() ? update->output.value("steps_done", 0) : 0;
    steps_in_order = steps_in_order && step >= last_step;
    last_step = step;
  }
  CHECK(steps_in_order);
  CHECK(local.runtime().stats().streams_opened >= 2);
  CHECK(updates.result().output == json{{"steps_done", 60}});
}

TEST_CASE(
    "shutting down the async client with 1000 waits on open streams fails each with "
    "CancelledError",
    "[async][shutdown]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  // A task that stays quiet for an hour: its 1000 streams carry nothing but heartbeats.
  const inf::Task queued = client.tasks.run(progress(2, 3600000), {.wait = false}).get();
  std::vector<inf::future<inf::Task>> waits;
  waits.reserve(1000);
  for (int i = 0; i < 1000; ++i) waits.push_back(client.tasks.wait_for_completion(queued.id));
  REQUIRE(wait_until([&] { return local.runtime().stats().open_streams >= 1000; },
                     std::chrono::seconds(60)));
  client.shutdown();
  int cancelled = 0;
  for (auto& wait : waits) {
    REQUIRE(wait.ready());
    try {
      wait.get();
    } catch (const inf::CancelledError& e) {
      cancelled += e.task() == nullptr ? 1 : 0;  // the call was cancelled, not the task
    }
  }
  CHECK(cancelled == 1000);
  local.client().tasks.cancel(queued.id);
}

TEST_CASE(
    "destroying the async client with 1000 run-and-wait calls on open streams fails each with "
    "CancelledError",
    "[async][shutdown]") {
  LocalRuntime local;
  std::vector<inf::future<inf::Task>> runs;
  runs.reserve(1000);
  {
    auto client = inf::async_inference(async_options(local));
    // Tasks that stay quiet for an hour: each run is created, then follows its task's stream.
    for (int i = 0; i < 1000; ++i) runs.push_back(client.tasks.run(progress(2, 3600000)));
    REQUIRE(wait_until([&] { return local.runtime().stats().open_streams >= 1000; },
                       std::chrono::seconds(60)));
  }  // the last copy of the client goes away here
  int cancelled = 0;
  for (auto& run : runs) {
    REQUIRE(run.ready());
    try {
      run.get();
    } catch (const inf::CancelledError& e) {
      cancelled += e.task() == nullptr ? 1 : 0;  // the call was cancelled, not the task
    }
  }
  CHECK(cancelled == 1000);
}

TEST_CASE(
    "with more streams open than max_requests_in_flight, a get and a cancel still go out at "
    "once",
    "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local), {.max_requests_in_flight = 2});
  // Five tasks that stay quiet for an hour, each followed by a stream of its own.
  std::vector<std::string> ids;
  std::vector<inf::future<inf::Task>> waits;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(client.tasks.run(progress(2, 3600000), {.wait = false}).get().id);
    waits.push_back(client.tasks.wait_for_completion(ids.back()));
  }
  // Every stream opens: an open stream holds none of the two slots.
  REQUIRE(wait_until([&] { return local.runtime().stats().open_streams >= 5; },
                     std::chrono::seconds(60)));
  CHECK(client.stats().waiting_transfers == 0);
  auto current = client.tasks.get(ids[0]);
  REQUIRE(current.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(current.get().id == ids[0]);
  auto cancel = client.tasks.cancel(ids[0]);
  REQUIRE(cancel.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  cancel.get();
  try {
    waits[0].get();
    FAIL("the wait of a cancelled task completed");
  } catch (const inf::CancelledError& e) {
    CHECK(e.task() != nullptr);  // the task was cancelled, not the call
  }
  for (std::size_t i = 1; i < ids.size(); ++i) local.client().tasks.cancel(ids[i]);
  for (std::size_t i = 1; i < waits.size(); ++i)
    CHECK_THROWS_AS(waits[i].get(), inf::CancelledError);
}

TEST_CASE("an async client driven by the program's poll loop runs a task", "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local), {.own_thread = false});
  auto result = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"driven", true}}}});
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!result.ready() && std::chrono::steady_clock::now() < give_up) {
    pollfd descriptor{client.descriptor(), POLLIN, 0};
    const auto timeout = client.timeout();
    ::poll(&descriptor, 1, timeout ? static_cast<int>(timeout->count()) : 1000);
    client.run_once();
  }
  REQUIRE(result.ready());
  CHECK(result.get().output == json{{"driven", true}});
}

#ifdef INFERENCESH_HAS_COROUTINES

namespace {

// Runs echo twice, the second time with the first one's output: the coroutine example. (The
// JSON is built outside the co_await expressions: GCC 12 cannot compile a braced initializer
// list inside one.)
inf::future<json> echo_twice(inf::AsyncClient client) {
  json params = {{"app", "infsh/echo"}, {"input", {{"n", 1}}}};
  const inf::Task first = co_await client.tasks.run(params);
  params["input"]["n"] = first.output["n"].get<int>() + 1;
  const inf::Task second = co_await client.tasks.run(params);
  co_return second.output;
}

}  // namespace

namespace {

// Runs the gated app as a stream and reads its updates with co_await, opening the gate once the
// first update is in (so the task cannot end before the stream has seen it running): the
// statuses it went through, then completed when result() holds the final output.
inf::future<std::vector<inf::TaskStatus>> stream_statuses(inf::AsyncClient client,
                                                          std::shared_ptr<Gate> gate) {
  std::vector<inf::TaskStatus> statuses;
  auto updates = client.tasks.run({{"app", "test/gated"}, {"input", {{"n", 7}}}}, inf::stream);
  while (auto update = co_await updates.next()) {
    statuses.push_back(update->status);
    gate->open();
  }
  const inf::Task final_task = updates.result();
  statuses.push_back(final_task.output == json{{"n", 7}} ? inf::TaskStatus::completed
                                                         : inf::TaskStatus::unknown);
  co_return statuses;
}

}  // namespace

TEST_CASE("a coroutine reads an async stream of a run with co_await next()", "[async][stream]") {
  LocalRuntime local;
  const auto app = std::make_shared<GatedApp>();
  local.runtime().apps().add("test/gated", app);
  auto client = inf::async_inference(async_options(local));
  const auto statuses = stream_statuses(client, app->gate).get();
  REQUIRE(statuses.size() >= 3);
  CHECK(statuses.front() != inf::TaskStatus::completed);
  CHECK(statuses[statuses.size() - 2] == inf::TaskStatus::completed);
  CHECK(statuses.back() == inf::TaskStatus::completed);  // result() held the final output
}

TEST_CASE("a coroutine runs two tasks in sequence with co_await", "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  CHECK(echo_twice(client).get() == json{{"n", 2}});
}

#endif
