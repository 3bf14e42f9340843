// The worker protocol (docs/worker-protocol.md), spoken to the test app program as infsh-local
// will speak it: ready, setup, runs with logs/progress/partials, results and errors, cancel,
// sessions keeping state, shutdown, end of input and crashes.

#include <catch2/catch.hpp>

#include <signal.h>

#include <infsh/infsh.hpp>

#include "app/worker_protocol.hpp"
#include "app_process.hpp"

using infsh::testing::AppProcess;
using infsh::testing::kTestApp;
using infsh::testing::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A worker of the test app that has sent its ready message.
struct Worker {
  TempDir cache;
  AppProcess process;
  json ready;

  Worker() : process({kTestApp, "worker"}, {"FILE_CACHE_DIR=" + cache.path().string()}) {
    auto message = process.read_message();
    REQUIRE(message);
    ready = *message;
  }

  json run(const std::string& task_id, const std::string& function, const json& input,
           std::vector<json>* before = nullptr) {
    process.send({{"type", "run"}, {"task_id", task_id}, {"function", function}, {"input", input}});
    return next_answer(before);
  }

  // The next result or error (or setup answer), collecting what came before.
  json next_answer(std::vector<json>* before = nullptr) {
    for (;;) {
      auto message = process.read_message();
      REQUIRE(message);
      const std::string type = message->at("type");
      if (type == "result" || type == "error" || type == "setup_done" || type == "setup_error") {
        return *message;
      }
      if (before != nullptr) before->push_back(*message);
    }
  }
};

}  // namespace

TEST_CASE("a worker announces itself first: protocol, app, functions with schemas, setup") {
  Worker worker;
  const json& ready = worker.ready;
  CHECK(ready.at("type") == "ready");
  CHECK(ready.at("protocol") == infsh::detail::protocol::kVersion);
  CHECK(ready.at("app") == "tests/test-app");
  CHECK(ready.at("pid") == worker.process.pid());
  CHECK(ready.at("default_function") == "run");
  const json& functions = ready.at("functions");
  CHECK(functions.size() == 7);
  CHECK(functions.at("run").at("description") == "Echoes its input");
  CHECK(functions.at("run").at("input_schema").at("title") == "EchoInput");
  CHECK(functions.at("run").at("output_schema").at("properties").contains("output_meta"));
  CHECK(functions.at("run").at("input_files") == json::array({"/file"}));
  CHECK(ready.at("setup_schema").at("title") == "Setup");
}

TEST_CASE("setup answers setup_done, and a run answers its result with the task id") {
  Worker worker;
  worker.process.send({{"type", "setup"}, {"task_id", "t0"}, {"setup", {{"label", "L"}}}});
  std::vector<json> before;
  const json done = worker.next_answer(&before);
  CHECK(done == json{{"type", "setup_done"}, {"task_id", "t0"}});
  REQUIRE(before.size() == 1);
  CHECK(before[0] == json{{"type", "log"},
                          {"task_id", "t0"},
                          {"level", "info"},
                          {"message", "set up with label L"}});

  const json result = worker.run("t1", "counter", json::object());
  CHECK(
      result ==
      json{
          {"type", "result"},
          {"task_id", "t1"},
          {"output",
           {{"count", 1}, {"label", "L"}, {"pid", worker.process.pid()}, {"output_meta", nullptr}}},
          {"files", json::array()}});
}

TEST_CASE("what the app prints never reaches the protocol but goes to stderr") {
  Worker worker;
  const json result = worker.run("t1", "run", {{"text", "hi"}});
  CHECK(result.at("type") == "result");
  CHECK(result.at("output").at("text") == "hi");
  REQUIRE(worker.process.wait_for_error_output("app printf line"));
  CHECK(worker.process.error_output().find("app stdout line") != std::string::npos);
}

TEST_CASE("progress, logs and partial outputs of a run come before its result, in order") {
  Worker worker;
  std::vector<json> before;
  const json result = worker.run("t2", "slow", {{"steps", 2}, {"delay_ms", 0}}, &before);
  CHECK(result.at("output").at("done") == 2);
  std::vector<std::string> types;
  for (const auto& message : before) {
    if (message.at("task_id") != "t2") continue;  // the implicit setup's log has it too
    types.push_back(message.at("type"));
  }
  CHECK(types == std::vector<std::string>{"log", "progress", "log", "partial", "progress", "log",
                                          "partial"});
  const auto progress = std::find_if(before.begin(), before.end(),
                                     [](const json& m) { return m.at("type") == "progress"; });
  CHECK(*progress == json{{"type", "progress"},
                          {"task_id", "t2"},
                          {"current", 0},
                          {"total", 2},
                          {"message", "step 0"}});
  const auto partial = std::find_if(before.begin(), before.end(),
                                    [](const json& m) { return m.at("type") == "partial"; });
  CHECK(partial->at("output") == json{{"done", 0}, {"output_meta", nullptr}});
  CHECK(partial->at("files") == json::array());
}

TEST_CASE("invalid input answers an error with kind, message and issues") {
  Worker worker;
  const json error = worker.run("t3", "run", {{"text", ""}});
  CHECK(error == json{{"type", "error"},
                      {"task_id", "t3"},
                      {"kind", "invalid_input"},
                      {"message", "input.text: must have at least 1 character"},
                      {"issues",
                       {{{"path", "input.text"}, {"message", "must have at least 1 character"}}}}});
}

TEST_CASE("failures of the app and unknown functions answer errors and the worker goes on") {
  Worker worker;
  const json failed = worker.run("t4", "fail", {{"message", "broken"}});
  CHECK(failed.at("kind") == "app_error");
  CHECK(failed.at("message") == "broken");
  const json unknown = worker.run("t5", "paint", json::object());
  CHECK(unknown.at("kind") == "unknown_function");
  CHECK(worker.run("t6", "counter", json::object()).at("type") == "result");
}

TEST_CASE("a malformed request answers a protocol error and the worker goes on") {
  Worker worker;
  worker.process.write_line("{this is not json");
  const json error = worker.next_answer();
  CHECK(error.at("kind") == "protocol");
  CHECK(error.at("task_id").is_null());
  worker.process.send({{"type", "dance"}});
  CHECK(worker.next_answer().at("message") == "unknown message type 'dance'");
  worker.process.send({{"type", "run"}, {"input", json::object()}});
  CHECK(worker.next_answer().at("message") == "a run needs a 'task_id'");
  worker.process.send({{"type", 5}});
  CHECK(worker.next_answer().at("message") == "'type' must be a string");
  worker.process.send({{"type", "run"}, {"task_id", json::array()}});
  CHECK(worker.next_answer().at("message") == "'task_id' must be a string");
  CHECK(worker.run("t7", "counter", json::object()).at("type") == "result");
}

TEST_CASE("a request nested deeper than 256 levels is a protocol error the app never sees") {
  Worker worker;
  const std::string deep = std::string(300, '[') + std::string(300, ']');
  worker.process.write_line(
      R"({"type":"run","task_id":"t-deep","function":"run","input":{"text":)" + deep + "}}");
  const json error = worker.next_answer();
  CHECK(error.at("type") == "error");
  CHECK(error.at("kind") == "protocol");
  CHECK(error.at("message").get<std::string>().find("nested deeper than 256 levels") !=
        std::string::npos);
  CHECK(worker.run("t-after", "counter", json::object()).at("type") == "result");
}

TEST_CASE("input files given as local paths are used in place and output files are listed") {
  Worker worker;
  const auto input = worker.cache.write("in.txt", "file body");
  const json result = worker.run("t8", "run", {{"text", "f"}, {"file", input.string()}});
  REQUIRE(result.at("type") == "result");
  CHECK(result.at("files") == json::array({"/file"}));
  const json& file = result.at("output").at("file");
  CHECK(infsh::testing::read_file(file.at("path").get<std::string>()) == "file body");
  CHECK(file.at("filename").get<std::string>().find("in.txt") != std::string::npos);
  CHECK(file.at("content_type") == "text/plain");
  CHECK(file.at("size") == 9);
  std::filesystem::remove(file.at("path").get<std::string>());
}

TEST_CASE("a session's runs share one instance: state survives between runs") {
  Worker worker;
  CHECK(worker.run("a", "counter", json::object()).at("output").at("count") == 1);
  CHECK(worker.run("b", "counter", json::object()).at("output").at("count") == 2);
  CHECK(worker.run("c", "counter", json::object()).at("output").at("count") == 3);
}

TEST_CASE("a new setup unloads the instance and starts a fresh one") {
  Worker worker;
  CHECK(worker.run("a", "counter", json::object()).at("output").at("count") == 1);
  worker.process.send({{"type", "setup"}, {"setup", {{"label", "second"}}}});
  CHECK(worker.next_answer().at("type") == "setup_done");
  REQUIRE(worker.process.wait_for_error_output("unload called (label default)"));
  const json output = worker.run("b", "counter", json::object()).at("output");
  CHECK(output.at("count") == 1);
  CHECK(output.at("label") == "second");
}

TEST_CASE("a failing setup answers setup_error and runs fail until a setup succeeds") {
  Worker worker;
  worker.process.send({{"type", "setup"}, {"task_id", "s1"}, {"setup", {{"label", "fail"}}}});
  const json error = worker.next_answer();
  CHECK(error.at("type") == "setup_error");
  CHECK(error.at("kind") == "setup_failed");
  CHECK(error.at("message") == "setup refused the label 'fail'");
  worker.process.send({{"type", "setup"}, {"setup", {{"label", 7}}}});
  const json invalid = worker.next_answer();
  CHECK(invalid.at("kind") == "invalid_setup");
  CHECK(invalid.at("issues")[0].at("path") == "setup.label");
}

TEST_CASE("cancel stops the running task: on_cancel runs and the run answers cancelled") {
  Worker worker;
  worker.process.send({{"type", "run"},
                       {"task_id", "long"},
                       {"function", "slow"},
                       {"input", {{"steps", 100000}, {"delay_ms", 1000}}}});
  REQUIRE(worker.process.read_until("progress"));
  worker.process.send({{"type", "cancel"}, {"task_id", "long"}});
  const json answer = worker.next_answer();
  CHECK(answer.at("type") == "error");
  CHECK(answer.at("task_id") == "long");
  CHECK(answer.at("kind") == "cancelled");
  CHECK(worker.process.wait_for_error_output("on_cancel called"));
  CHECK(worker.run("after", "counter", json::object()).at("type") == "result");
}

TEST_CASE("a cancel for a queued run answers it at once, before the running one ends") {
  Worker worker;
  worker.process.send({{"type", "run"},
                       {"task_id", "first"},
                       {"function", "slow"},
                       {"input", {{"steps", 100000}, {"delay_ms", 1000}}}});
  REQUIRE(worker.process.read_until("progress"));
  worker.process.send(
      {{"type", "run"}, {"task_id", "second"}, {"function", "counter"}, {"input", json::object()}});
  worker.process.send({{"type", "cancel"}, {"task_id", "second"}});
  const json second = worker.next_answer();
  CHECK(second.at("task_id") == "second");
  CHECK(second.at("kind") == "cancelled");
  worker.process.send({{"type", "cancel"}, {"task_id", "first"}});
  CHECK(worker.next_answer().at("task_id") == "first");
}

TEST_CASE("a cancel for another task leaves the running one alone") {
  Worker worker;
  worker.process.send({{"type", "run"},
                       {"task_id", "mine"},
                       {"function", "slow"},
                       {"input", {{"steps", 3}, {"delay_ms", 50}}}});
  REQUIRE(worker.process.read_until("progress"));
  worker.process.send({{"type", "cancel"}, {"task_id", "someone-else"}});
  const json answer = worker.next_answer();
  CHECK(answer.at("type") == "result");
  CHECK(answer.at("output").at("done") == 3);
}

TEST_CASE("shutdown cancels the running task, unloads the app and exits 0") {
  Worker worker;
  worker.process.send({{"type", "run"},
                       {"task_id", "busy"},
                       {"function", "slow"},
                       {"input", {{"steps", 100000}, {"delay_ms", 1000}}}});
  REQUIRE(worker.process.read_until("progress"));
  worker.process.send({{"type", "shutdown"}});
  CHECK(worker.next_answer().at("kind") == "cancelled");
  const auto status = worker.process.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(worker.process.error_output().find("unload called") != std::string::npos);
}

TEST_CASE("the end of its input makes a worker unload and exit 0") {
  Worker worker;
  CHECK(worker.run("a", "counter", json::object()).at("type") == "result");
  worker.process.close_stdin();
  const auto status = worker.process.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(worker.process.error_output().find("unload called") != std::string::npos);
  CHECK_FALSE(worker.process.read_line(1s));
}

TEST_CASE("a crash in the app ends the protocol output without an answer") {
  Worker worker;
  worker.process.send(
      {{"type", "run"}, {"task_id", "boom"}, {"function", "crash"}, {"input", json::object()}});
  std::vector<json> before;
  CHECK_FALSE(worker.process.read_until("result", &before));
  for (const auto& message : before) CHECK(message.at("type") != "error");
  const auto status = worker.process.wait(10s);
  REQUIRE(status);
  CHECK(*status == 128 + SIGABRT);
}

TEST_CASE("Ctrl-C in the runtime's terminal does not kill a worker") {
  Worker worker;
  worker.process.signal(SIGINT);
  CHECK(worker.run("a", "counter", json::object()).at("type") == "result");
}
