// AppHost: an app driven in-process, as the program's run and worker commands drive it:
// setup, typed runs, partial outputs, progress, logs, cancellation, failures, files.

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <infsh/infsh.hpp>

#include "app_process.hpp"

namespace host_test {

struct Setup {
  int start = 0;
};
INFSH_MODEL(Setup, INFSH_FIELD(start).minimum(0).with_default())

struct Input {
  std::string text;
  int steps = 0;
  std::optional<infsh::File> file;
  bool write_missing_file = false;
  bool throw_error = false;
};
INFSH_MODEL(Input, INFSH_FIELD(text).min_length(1), INFSH_FIELD(steps).minimum(0).with_default(),
            INFSH_FIELD(file), INFSH_FIELD(write_missing_file).with_default(),
            INFSH_FIELD(throw_error).with_default())

struct Output : infsh::BaseAppOutput {
  std::string text;
  int count = 0;
  std::optional<infsh::File> file;
  std::vector<infsh::File> extra_files;
};
INFSH_MODEL(Output, INFSH_FIELD(text), INFSH_FIELD(count), INFSH_FIELD(file),
            INFSH_FIELD(extra_files).with_default())

// Lets a test wait until a run has started, then release it.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool started = false;

  void mark_started() {
    {
      std::lock_guard lock(mutex);
      started = true;
    }
    changed.notify_all();
  }
  bool wait_started() {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [this] { return started; });
  }
};

Gate* g_gate = nullptr;
std::atomic<int> g_cancel_calls{0};
std::atomic<int> g_unload_calls{0};

class Counter : public infsh::BaseApp {
 public:
  void setup(const Setup& setup, infsh::Context& context) {
    count_ = setup.start;
    context.log("setup at " + std::to_string(setup.start));
  }

  Output run(const Input& input, infsh::Context& context) {
    if (input.throw_error) throw std::runtime_error("asked to fail");
    Output output;
    output.text = input.text;
    output.count = ++count_;
    if (input.file) output.file = *input.file;
    if (input.write_missing_file)
      output.extra_files.push_back(infsh::File{.path = "/nonexistent/x.png"});
    for (int step = 0; step < input.steps; ++step) {
      context.progress(step, input.steps, "step");
      context.partial(output);
    }
    if (g_gate != nullptr) {
      g_gate->mark_started();
      if (!context.wait_for(std::chrono::seconds(30))) return output;  // cancelled
    }
    context.log(infsh::LogLevel::warning, "done");
    return output;
  }

  void on_cancel() override { g_cancel_calls.fetch_add(1); }
  void unload() override { g_unload_calls.fetch_add(1); }

 private:
  int count_ = 0;
};

struct Recorder {
  std::vector<std::string> logs;
  std::vector<std::string> progress;
  std::vector<nlohmann::ordered_json> partials;

  infsh::Context::Sink sink() {
    infsh::Context::Sink s;
    s.log = [this](infsh::LogLevel level, const std::string& message) {
      logs.push_back(std::string(infsh::to_string(level)) + ": " + message);
    };
    s.progress = [this](double current, double total, const std::string& message) {
      progress.push_back(std::to_string(static_cast<int>(current)) + "/" +
                         std::to_string(static_cast<int>(total)) + " " + message);
    };
    s.partial = [this](const infsh::EncodedOutput& output) { partials.push_back(output.json); };
    return s;
  }
};

}  // namespace host_test

using namespace host_test;
using infsh::RunOutcome;
using nlohmann::json;

TEST_CASE("a run decodes its input, calls the app and encodes the output with output_meta") {
  infsh::AppHost host(infsh::define_app<Counter>());
  Recorder recorder;
  const auto outcome = host.run({.task_id = "t1", .input = {{"text", "hi"}}}, recorder.sink());
  REQUIRE(outcome.ok());
  CHECK(outcome.output.json.dump() ==
        R"({"text":"hi","count":1,"file":null,"extra_files":[],"output_meta":null})");
  CHECK(outcome.output.files.empty());
  // The implicit setup (no setup sent) ran with the defaults, and logged.
  CHECK(recorder.logs == std::vector<std::string>{"info: setup at 0", "warning: done"});
}

TEST_CASE("progress and partial outputs reach the sink in order, before the result") {
  infsh::AppHost host(infsh::define_app<Counter>());
  Recorder recorder;
  const auto outcome = host.run({.input = {{"text", "x"}, {"steps", 2}}}, recorder.sink());
  REQUIRE(outcome.ok());
  CHECK(recorder.progress == std::vector<std::string>{"0/2 step", "1/2 step"});
  REQUIRE(recorder.partials.size() == 2);
  CHECK(recorder.partials[0].at("count") == 1);
}

TEST_CASE("an instance keeps its state between runs until a new setup replaces it") {
  infsh::AppHost host(infsh::define_app<Counter>());
  const int unloads = g_unload_calls.load();
  REQUIRE(host.setup({{"start", 10}}, {}).ok());
  CHECK(host.run({.input = {{"text", "a"}}}, {}).output.json.at("count") == 11);
  CHECK(host.run({.input = {{"text", "a"}}}, {}).output.json.at("count") == 12);
  REQUIRE(host.setup(nullptr, {}).ok());
  CHECK(g_unload_calls.load() == unloads + 1);
  CHECK(host.run({.input = {{"text", "a"}}}, {}).output.json.at("count") == 1);
  host.unload();
  CHECK(g_unload_calls.load() == unloads + 2);
}

TEST_CASE("invalid input fails the run with every issue and its path, without calling the app") {
  infsh::AppHost host(infsh::define_app<Counter>());
  const auto outcome = host.run({.input = {{"text", ""}, {"steps", -1}}}, {});
  CHECK(outcome.status == RunOutcome::Status::failed);
  CHECK(outcome.error_kind == "invalid_input");
  CHECK(outcome.error == "input.text: must have at least 1 character; input.steps: must be >= 0");
  REQUIRE(outcome.issues.size() == 2);
  CHECK(outcome.issues[1].path == "input.steps");
  CHECK(host.run({.input = {{"text", "ok"}}}, {}).output.json.at("count") == 1);
}

TEST_CASE("invalid setup values fail the setup and leave no instance") {
  infsh::AppHost host(infsh::define_app<Counter>());
  const auto outcome = host.setup({{"start", -5}}, {});
  CHECK(outcome.error_kind == "invalid_setup");
  CHECK(outcome.error == "setup.start: must be >= 0");
  CHECK_FALSE(host.is_set_up());
}

TEST_CASE("an unknown function names the functions the app has") {
  infsh::AppHost host(infsh::define_app<Counter>());
  const auto outcome = host.run({.function = "paint", .input = {{"text", "x"}}}, {});
  CHECK(outcome.error_kind == "unknown_function");
  CHECK(outcome.error == "unknown function 'paint' (this app has: run)");
}

TEST_CASE("an exception in the app fails the run with its message") {
  infsh::AppHost host(infsh::define_app<Counter>());
  const auto outcome = host.run({.input = {{"text", "x"}, {"throw_error", true}}}, {});
  CHECK(outcome.error_kind == "app_error");
  CHECK(outcome.error == "asked to fail");
}

TEST_CASE("an output File that does not exist fails the run naming the field") {
  infsh::AppHost host(infsh::define_app<Counter>());
  const auto outcome = host.run({.input = {{"text", "x"}, {"write_missing_file", true}}}, {});
  CHECK(outcome.error_kind == "app_error");
  CHECK(outcome.error ==
        "output.extra_files[0]: the output file /nonexistent/x.png does not exist");
}

TEST_CASE("input Files are resolved before the app runs and output Files are listed") {
  infsh::testing::TempDir cache;
  infsh::FileResolveOptions files;
  files.cache_dir = cache.path();
  infsh::AppHost host(infsh::define_app<Counter>(), files);
  const auto outcome = host.run({.input = {{"text", "x"}, {"file", "data:text/plain,hello"}}}, {});
  REQUIRE(outcome.ok());
  const auto& file = outcome.output.json.at("file");
  CHECK(infsh::testing::read_file(file.at("path").get<std::string>()) == "hello");
  CHECK(file.at("content_type") == "text/plain");
  CHECK(file.at("uri") == "data:text/plain,hello");
  CHECK(outcome.output.files == std::vector<std::string>{"/file"});

  const auto bad = host.run({.input = {{"text", "x"}, {"file", "gopher://old/x"}}}, {});
  CHECK(bad.error_kind == "invalid_input");
  REQUIRE(bad.issues.size() == 1);
  CHECK(bad.issues[0].path == "input.file");
  const auto missing =
      host.run({.input = {{"text", "x"}, {"file", {{"path", "/nonexistent/in.png"}}}}}, {});
  CHECK(missing.error == "input.file: file not found: /nonexistent/in.png");
}

TEST_CASE("cancel from another thread sets the flag, calls on_cancel and discards the output") {
  Gate gate;
  g_gate = &gate;
  infsh::AppHost host(infsh::define_app<Counter>());
  const int calls = g_cancel_calls.load();
  RunOutcome outcome;
  std::thread runner([&] { outcome = host.run({.task_id = "t9", .input = {{"text", "x"}}}, {}); });
  REQUIRE(gate.wait_started());
  CHECK_FALSE(host.cancel("another-task"));
  CHECK(host.cancel("t9"));
  runner.join();
  g_gate = nullptr;
  CHECK(outcome.status == RunOutcome::Status::cancelled);
  CHECK(outcome.error_kind == "cancelled");
  CHECK(g_cancel_calls.load() == calls + 1);
}

TEST_CASE("a cancel that arrives before its run starts cancels that run when it starts") {
  infsh::AppHost host(infsh::define_app<Counter>());
  REQUIRE(host.setup(nullptr, {}).ok());
  CHECK_FALSE(host.cancel("early"));
  const auto cancelled = host.run({.task_id = "early", .input = {{"text", "x"}}}, {});
  CHECK(cancelled.status == RunOutcome::Status::cancelled);
  const auto next = host.run({.task_id = "later", .input = {{"text", "x"}}}, {});
  CHECK(next.ok());
}

TEST_CASE("the context carries the metadata of the environment and of the request") {
  infsh::testing::ScopedEnv app_id("APP_ID", "app-123");
  infsh::testing::ScopedEnv worker_id("WORKER_ID", "worker-7");
  infsh::Metadata metadata = infsh::Metadata::from_environment();
  metadata.update({{"worker_id", "worker-8"}, {"session_id", "sess_1"}});
  CHECK(metadata.app_id == "app-123");
  CHECK(metadata.worker_id == "worker-8");
  CHECK(metadata.extra.at("session_id") == "sess_1");
  CHECK(metadata.to_json() ==
        json{{"app_id", "app-123"}, {"worker_id", "worker-8"}, {"session_id", "sess_1"}});
}

TEST_CASE("wait_for wakes up, returning false, when the context is cancelled from elsewhere") {
  infsh::Context context("t", "run", {}, {});
  bool waited = true;
  const auto start = std::chrono::steady_clock::now();
  std::thread waiter([&] { waited = context.wait_for(std::chrono::seconds(30)); });
  context.request_cancel();
  waiter.join();
  CHECK_FALSE(waited);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK_THROWS_AS(context.throw_if_cancelled(), infsh::CancelledError);
}

TEST_CASE("a context passes lines at every severity to its sink and drops those at off") {
  Recorder recorder;
  infsh::Context context("task_1", "run", infsh::Metadata{}, recorder.sink());
  context.log("plain");
  context.log(infsh::LogLevel::debug, "detail");
  context.log(infsh::LogLevel::error, "broken");
  context.log(infsh::LogLevel::off, "never shown");
  CHECK(recorder.logs == std::vector<std::string>{"info: plain", "debug: detail", "error: broken"});
}
