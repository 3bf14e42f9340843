// The app program's command line, driven as a user drives it: schema files, one-shot runs with
// their exit statuses and messages, Ctrl-C, and how `serve` starts infsh-local.

#include <catch2/catch.hpp>

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill(), pthread_sigmask()
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>

#include <infsh/infsh.hpp>

#include "app/command_line.hpp"
#include "app/signal_watcher.hpp"
#include "app_process.hpp"

using infsh::testing::AppProcess;
using infsh::testing::kTestApp;
using infsh::testing::ProgramResult;
using infsh::testing::run_program;
using infsh::testing::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("schema writes the four schema files the platform reads") {
  TempDir dir;
  const ProgramResult result = run_program({kTestApp, "schema", "--out-dir", dir.path().string()});
  INFO(result.err);
  REQUIRE(result.status == 0);
  const auto read = [&dir](const char* name) {
    return json::parse(infsh::testing::read_file(dir.path() / name));
  };
  const json input = read("input_schema.json");
  CHECK(input.at("title") == "EchoInput");
  CHECK(input.at("required") == json::array({"text"}));
  CHECK(read("output_schema.json").at("properties").contains("output_meta"));
  CHECK(read("setup_schema.json").at("properties").at("label").at("default") == "default");
  const json functions = read("functions_schema.json");
  CHECK(functions.size() == 7);
  CHECK(functions.at("slow").at("description") == "Takes its time");
  CHECK(functions.at("run").at("input_schema") == input);
  // Pretty-printed, two spaces, like the platform's files.
  CHECK(
      infsh::testing::read_file(dir.path() / "input_schema.json").rfind("{\n  \"properties\"", 0) ==
      0);
}

TEST_CASE("schema --print writes every schema to stdout as one object") {
  const ProgramResult result = run_program({kTestApp, "schema", "--print"});
  REQUIRE(result.status == 0);
  const json all = json::parse(result.out);
  CHECK(all.contains("input_schema"));
  CHECK(all.contains("output_schema"));
  CHECK(all.contains("setup_schema"));
  CHECK(all.at("functions_schema").contains("counter"));
}

TEST_CASE("run prints only the output JSON on stdout, and the app's own prints go to stderr") {
  const ProgramResult result =
      run_program({kTestApp, "run", "--input", R"({"text": "ab", "count": 2})"});
  INFO(result.err);
  REQUIRE(result.status == 0);
  const json output = json::parse(result.out);
  CHECK(output.at("text") == "abab");
  CHECK(output.at("output_meta").at("outputs")[0] ==
        json{{"type", "text"}, {"extra", nullptr}, {"tokens", 4}});
  CHECK(result.err.find("app stdout line") != std::string::npos);
  CHECK(result.err.find("app printf line") != std::string::npos);
  CHECK(result.err.find("app stderr line") != std::string::npos);
  CHECK(result.err.find("[info] set up with label default") != std::string::npos);
}

TEST_CASE("run reads its input and setup from files, and runs the function asked for") {
  TempDir dir;
  const auto input = dir.write("input.json", "{}");
  const auto setup = dir.write("setup.json", R"({"label": "from-file"})");
  const ProgramResult result = run_program({kTestApp, "run", "--input", input.string(), "--setup",
                                            setup.string(), "--function", "counter"});
  INFO(result.err);
  REQUIRE(result.status == 0);
  const json output = json::parse(result.out);
  CHECK(output.at("count") == 1);
  CHECK(output.at("label") == "from-file");
  CHECK(output.at("output_meta").is_null());
}

TEST_CASE("run writes progress, logs and partial outputs to stderr") {
  const ProgramResult result = run_program(
      {kTestApp, "run", "--function", "slow", "--input", R"({"steps": 2, "delay_ms": 0})"});
  REQUIRE(result.status == 0);
  CHECK(json::parse(result.out).at("done") == 2);
  CHECK(result.err.find("[progress] 0/2 step 0") != std::string::npos);
  CHECK(result.err.find("[progress] 1/2 step 1") != std::string::npos);
  CHECK(result.err.find("[info] step 1") != std::string::npos);
  CHECK(result.err.find(R"([partial] {"done":1,"output_meta":null})") != std::string::npos);
}

TEST_CASE("run refuses invalid input with status 3 and names the field and the rule") {
  const ProgramResult result =
      run_program({kTestApp, "run", "--input", R"({"text": "", "count": 11})"});
  CHECK(result.status == infsh::kExitInvalidInput);
  CHECK(result.out.empty());
  CHECK(result.err.find("error: invalid input: input.text: must have at least 1 character; "
                        "input.count: must be <= 10") != std::string::npos);
}

TEST_CASE("run refuses invalid setup values with status 3") {
  const ProgramResult result = run_program(
      {kTestApp, "run", "--input", "{}", "--function", "counter", "--setup", R"({"label": 5})"});
  CHECK(result.status == infsh::kExitInvalidInput);
  CHECK(result.err.find("error: invalid setup: setup.label: expected string, got integer") !=
        std::string::npos);
}

TEST_CASE("run reports a failing app with status 1 and its message") {
  const ProgramResult failed = run_program(
      {kTestApp, "run", "--function", "fail", "--input", R"({"message": "no luck today"})"});
  CHECK(failed.status == infsh::kExitFailed);
  CHECK(failed.err.find("error: no luck today") != std::string::npos);
  const ProgramResult setup = run_program({kTestApp, "run", "--function", "counter", "--input",
                                           "{}", "--setup", R"({"label": "fail"})"});
  CHECK(setup.status == infsh::kExitFailed);
  CHECK(setup.err.find("error: setup failed: setup refused the label 'fail'") != std::string::npos);
}

TEST_CASE("bad command lines exit with status 2 and say what was wrong") {
  const ProgramResult malformed = run_program({kTestApp, "run", "--input", "{not json"});
  CHECK(malformed.status == infsh::kExitUsage);
  CHECK(malformed.err.find("--input: malformed JSON") != std::string::npos);
  const ProgramResult deep = run_program(
      {kTestApp, "run", "--input", "[" + std::string(300, '[') + std::string(301, ']')});
  CHECK(deep.status == infsh::kExitUsage);
  CHECK(deep.err.find("--input: malformed JSON (nested deeper than 256 levels)") !=
        std::string::npos);
  const ProgramResult no_file = run_program({kTestApp, "run", "--input", "/nonexistent/in.json"});
  CHECK(no_file.status == infsh::kExitUsage);
  CHECK(no_file.err.find("cannot read the file '/nonexistent/in.json'") != std::string::npos);
  const ProgramResult unknown = run_program({kTestApp, "frobnicate"});
  CHECK(unknown.status == infsh::kExitUsage);
  CHECK(unknown.err.find("unknown command 'frobnicate'") != std::string::npos);
  const ProgramResult function =
      run_program({kTestApp, "run", "--input", "{}", "--function", "paint"});
  CHECK(function.status == infsh::kExitUsage);
  CHECK(function.err.find("unknown function 'paint'") != std::string::npos);
  const ProgramResult help = run_program({kTestApp, "--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("Usage: ") == 0);
}

TEST_CASE("Ctrl-C cancels a run: on_cancel is called and the status is 130") {
  AppProcess app(
      {kTestApp, "run", "--function", "slow", "--input", R"({"steps": 100000, "delay_ms": 1000})"});
  REQUIRE(app.wait_for_error_output("[progress] 0/100000"));
  app.signal(SIGINT);
  const auto status = app.wait(10s);
  REQUIRE(status);
  CHECK(*status == infsh::kExitCancelled);
  CHECK(app.error_output().find("on_cancel called") != std::string::npos);
  CHECK(app.error_output().find("error: cancelled") != std::string::npos);
  CHECK(app.read_all().empty());
}

TEST_CASE("a second Ctrl-C ends a run that ignores the cancel at once") {
  AppProcess app({kTestApp, "run", "--function", "slow", "--input",
                  R"({"steps": 100000, "delay_ms": 100, "ignore_cancel": true})"});
  REQUIRE(app.wait_for_error_output("[progress] 0/100000"));
  app.signal(SIGINT);
  REQUIRE(app.wait_for_error_output("on_cancel called"));
  app.signal(SIGINT);
  const auto status = app.wait(10s);
  REQUIRE(status);
  CHECK(*status == infsh::kExitCancelled);
}

namespace {

// The signals blocked by this process's thread named `name`, from /proc; nullopt if no thread
// has that name.
std::optional<std::uint64_t> blocked_signals_of_thread(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string thread_name;
    std::getline(comm, thread_name);
    if (thread_name != name) continue;
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("SigBlk:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
    }
  }
  return std::nullopt;
}

bool has_signal(std::uint64_t set, int signal_number) {
  return ((set >> (signal_number - 1)) & 1U) != 0;
}

}  // namespace

TEST_CASE("the signal watcher takes signals on the program's threads and never on its own") {
  std::promise<void> signalled;
  auto called = signalled.get_future();
  infsh::detail::SignalWatcher watcher([&signalled] { signalled.set_value(); });
  // The watcher's thread blocks them: a handler that ran there while it waits for the handler's
  // byte would wait forever under a runtime that defers handlers (ThreadSanitizer).
  const auto watcher_blocks = blocked_signals_of_thread("infsh-signals");
  REQUIRE(watcher_blocks);
  CHECK(has_signal(*watcher_blocks, SIGINT));
  CHECK(has_signal(*watcher_blocks, SIGTERM));
  // The caller's own mask is as it was.
  sigset_t caller_mask;
  REQUIRE(::pthread_sigmask(SIG_BLOCK, nullptr, &caller_mask) == 0);
  CHECK(sigismember(&caller_mask, SIGINT) == 0);
  CHECK(sigismember(&caller_mask, SIGTERM) == 0);
  // A signal to the process reaches the callback.
  ::kill(::getpid(), SIGTERM);
  CHECK(called.wait_for(10s) == std::future_status::ready);
}

TEST_CASE("serve starts infsh-local with --app naming this program") {
  // INFSH_LOCAL stands in for the runtime: /bin/echo prints the arguments it was given.
  const ProgramResult result = run_program(
      {kTestApp, "serve", "--port", "8123", "--name", "me/echoer", "--", "--log-level", "off"},
      {"INFSH_LOCAL=/bin/echo"});
  INFO(result.err);
  REQUIRE(result.status == 0);
  CHECK(result.out ==
        "--port 8123 --app me/echoer=" + std::string(kTestApp) + " --log-level off\n");
  const ProgramResult default_name = run_program({kTestApp, "serve"}, {"INFSH_LOCAL=/bin/echo"});
  CHECK(default_name.out == "--port 0 --app tests/test-app=" + std::string(kTestApp) + "\n");
  const ProgramResult broken =
      run_program({kTestApp, "serve"}, {"INFSH_LOCAL=/nonexistent/infsh-local"});
  CHECK(broken.status == infsh::kExitFailed);
  CHECK(broken.err.find("INFSH_LOCAL is set to '/nonexistent/infsh-local'") != std::string::npos);
}

TEST_CASE("the command line parser refuses what it does not know") {
  using infsh::detail::parse_command_line;
  using infsh::detail::UsageError;
  CHECK_THROWS_WITH(parse_command_line({"run", "--port", "1"}),
                    Catch::Contains("unknown option '--port' for run"));
  CHECK_THROWS_WITH(parse_command_line({"serve", "--port", "70000"}),
                    Catch::Contains("--port expects a number from 0 to 65535"));
  CHECK_THROWS_WITH(parse_command_line({"serve", "--name", "noslash"}),
                    Catch::Contains("--name expects NAMESPACE/NAME"));
  CHECK_THROWS_WITH(parse_command_line({"run", "--input"}),
                    Catch::Contains("--input needs a value"));
  const auto command = parse_command_line({"run", "--input={\"a\":1}", "--function=slow"});
  CHECK(*command.input == "{\"a\":1}");
  CHECK(command.function == "slow");
  CHECK(infsh::detail::looks_like_json("  [1]"));
  CHECK_FALSE(infsh::detail::looks_like_json("input.json"));
}
