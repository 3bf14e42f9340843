// App programs hosted by the local runtime (`infsh-local --app NS/NAME=PATH`), end to end: the
// test app program (tests/app/programs/test_app.cpp) runs as worker processes behind a real
// socket, driven by the C++ client. Setup values picking workers, partial outputs, progress and
// logs, cancels honoured and ignored, crashes, hangs, invalid input, files both ways, sessions,
// shutdown, the command line, and the hello example through --app and its own `serve`.

#if defined(INFSH_TEST_APP_PROGRAM)

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>

#include "local/apps/worker_messages.hpp"
#include "local_runtime_fixture.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

const std::string kTestApp = INFSH_TEST_APP_PROGRAM;
const std::string kApp = "tests/test-app";

// The runtime's log lines, kept for the checks.
struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;

  bool contains(const std::string& needle) {
    std::lock_guard lock(mutex);
    for (const auto& line : lines) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

// Options hosting the test app, with quick grace periods; the runtime's log goes to `log`.
infsh::local::RuntimeOptions hosting(const std::shared_ptr<LogLines>& log = nullptr) {
  auto options = LocalRuntime::quiet();
  options.app_programs = {{kApp, kTestApp}};
  options.cancel_grace = 300ms;
  if (log) {
    options.log_level = infsh::local::LogLevel::info;
    options.log_sink = [log](infsh::local::LogLevel, std::string_view line) {
      std::lock_guard lock(log->mutex);
      log->lines.emplace_back(line);
    };
  }
  return options;
}

json call(const std::string& function, const json& input = json::object()) {
  return {{"app", kApp}, {"function", function}, {"input", input}};
}

json counter(const json& setup = nullptr) {
  json params = call("counter");
  if (!setup.is_null()) params["setup"] = setup;
  return params;
}

bool has_log(const inf::Task& task, const std::string& needle) {
  for (const auto& log : task.logs) {
    if (log.content.find(needle) != std::string::npos) return true;
  }
  return false;
}

// True when no process `pid` exists any more: not running, and not a zombie either.
bool process_gone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

std::string failure_of(inf::Client& client, const json& params) {
  try {
    client.tasks.run(params);
  } catch (const inf::TaskFailedError& e) {
    return e.task().error;
  }
  FAIL("the task should have failed");
  return {};
}

}  // namespace

TEST_CASE("an app program runs and answers, with its printf and stderr in the task logs") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const inf::Task done =
      client.tasks.run({{"app", kApp}, {"input", {{"text", "hi"}, {"count", 3}}}});
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK(done.function == "run");
  CHECK(done.output.at("text") == "hihihi");
  CHECK(done.output.at("output_meta").at("outputs").at(0).at("tokens") == 6);
  CHECK(has_log(done, "app stdout line"));
  CHECK(has_log(done, "app printf line"));
  CHECK(has_log(done, "app stderr line"));
  // The setup's log (the app's own `log`) is a setup log, the run's lines task logs.
  bool setup_log = false;
  for (const auto& log : done.logs) {
    if (log.content == "set up with label default") setup_log = log.log_type == 3;
  }
  CHECK(setup_log);
  CHECK(local.runtime().stats().app_processes == 1);
}

TEST_CASE("setup values pick the worker: equal setups reuse one, another setup starts another") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const inf::Task a1 = client.tasks.run(counter({{"label", "a"}}));
  const inf::Task a2 = client.tasks.run(counter({{"label", "a"}}));
  const inf::Task b1 = client.tasks.run(counter({{"label", "b"}}));
  CHECK(a1.output.at("count") == 1);
  CHECK(a2.output.at("count") == 2);
  CHECK(a2.output.at("pid") == a1.output.at("pid"));
  CHECK(b1.output.at("count") == 1);
  CHECK(b1.output.at("label") == "b");
  CHECK(b1.output.at("pid") != a1.output.at("pid"));
  CHECK(local.runtime().stats().app_processes == 2);
  // A setup value the worker refuses fails the task, naming the field.
  CHECK_THAT(failure_of(client, counter({{"label", 5}})), Catch::Contains("setup.label"));
  CHECK_THAT(failure_of(client, counter({{"label", "fail"}})),
             Catch::Contains("setup refused the label 'fail'"));
  CHECK(client.tasks.run(counter({{"label", "a"}})).output.at("count") == 3);
}

TEST_CASE("partial outputs, progress and logs of an app program reach a task stream") {
  LocalRuntime local(hosting());
  auto client = local.client();
  std::set<int> partials;
  bool saw_progress = false;
  inf::Task last;
  for (const inf::Task& update :
       client.tasks.run(call("slow", {{"steps", 3}, {"delay_ms", 20}}), inf::stream)) {
    if (update.status == inf::TaskStatus::running && update.output.is_object()) {
      partials.insert(update.output.at("done").get<int>());
    }
    const json& metadata = update.raw.value("metadata", json());
    if (metadata.is_object() && metadata.contains("progress")) {
      saw_progress = true;
      CHECK(metadata.at("progress").at("total") == 3);
    }
    last = update;
  }
  CHECK(last.status == inf::TaskStatus::completed);
  CHECK(last.output.at("done") == 3);
  CHECK(partials.count(0) == 1);  // each step's partial was a task update of its own
  CHECK(partials.count(2) == 1);
  CHECK(saw_progress);
  CHECK(last.raw.at("metadata").at("progress") ==
        json{{"current", 2}, {"total", 3}, {"message", "step 2"}});
  CHECK(has_log(last, "step 1"));
  CHECK(has_log(last, "progress 1/3: step 1"));
}

TEST_CASE("a cancel the app honours ends the task cancelled and keeps the worker warm") {
  auto log = std::make_shared<LogLines>();
  LocalRuntime local(hosting(log));
  auto client = local.client();
  const inf::Task before = client.tasks.run(counter());
  const inf::Task slow =
      client.tasks.run(call("slow", {{"steps", 100000}, {"delay_ms", 20}}), {.wait = false});
  REQUIRE(wait_until([&] { return has_log(client.tasks.get(slow.id), "step 1"); }));
  client.tasks.cancel(slow.id);
  CHECK_THROWS_AS(client.tasks.wait_for_completion(slow.id), inf::CancelledError);
  // The app's on_cancel() ran (its stderr line lands in the task's logs, or in the runtime's
  // log when it comes after the answer).
  CHECK(wait_until([&] {
    return has_log(client.tasks.get(slow.id), "on_cancel called") ||
           log->contains("on_cancel called");
  }));
  const inf::Task after = client.tasks.run(counter());
  CHECK(after.output.at("pid") == before.output.at("pid"));
  CHECK(after.output.at("count") == 2);
}

TEST_CASE("a cancel the app ignores kills the worker after the grace period") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const inf::Task before = client.tasks.run(counter());
  const int old_pid = before.output.at("pid").get<int>();
  const inf::Task stubborn =
      client.tasks.run(call("slow", {{"steps", 100000}, {"delay_ms", 20}, {"ignore_cancel", true}}),
                       {.wait = false});
  REQUIRE(wait_until([&] { return has_log(client.tasks.get(stubborn.id), "step 1"); }));
  client.tasks.cancel(stubborn.id);
  try {
    client.tasks.wait_for_completion(stubborn.id);
    FAIL("the wait should have thrown CancelledError");
  } catch (const inf::CancelledError& e) {
    REQUIRE(e.task() != nullptr);
    CHECK(e.task()->status == inf::TaskStatus::cancelled);
  }
  CHECK(wait_until([&] { return process_gone(old_pid); }));
  const inf::Task after = client.tasks.run(counter());
  CHECK(after.output.at("pid") != old_pid);
  CHECK(after.output.at("count") == 1);
  CHECK(local.runtime().stats().app_processes == 1);
}

TEST_CASE("an app that floods messages and ignores a cancel is still killed after the grace") {
  LocalRuntime local(hosting());
  auto client = local.client();
  // No delay between steps: a log, progress and partial output as fast as the app can write.
  const inf::Task flood = client.tasks.run(
      call("slow", {{"steps", 100000}, {"delay_ms", 0}, {"ignore_cancel", true}}), {.wait = false});
  REQUIRE(wait_until([&] { return has_log(client.tasks.get(flood.id), "step 1"); }));
  client.tasks.cancel(flood.id);
  CHECK_THROWS_AS(client.tasks.wait_for_completion(flood.id), inf::CancelledError);
  // Killed, not returned to the pool after finishing its 100,000 steps.
  CHECK(local.runtime().stats().app_processes == 0);
}

TEST_CASE(
    "a crashing app fails its task with how it ended and its stderr, and the runtime goes on") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const inf::Task before = client.tasks.run(counter());
  const std::string aborted = failure_of(client, call("crash"));
  CHECK_THAT(aborted, Catch::Contains("the app process was killed by signal 6") &&
                          Catch::Contains("while running the task") &&
                          Catch::Contains("about to crash"));
  CHECK(process_gone(before.output.at("pid").get<int>()));
  CHECK_THAT(failure_of(client, call("crash", {{"exit_status", 3}})),
             Catch::Contains("the app process exited with status 3"));
  const inf::Task after = client.tasks.run(counter());
  CHECK(after.output.at("count") == 1);
  CHECK(local.runtime().stats().app_processes == 1);
}

TEST_CASE("a run that hangs fails after the task timeout and its worker is replaced") {
  auto options = hosting();
  options.task_timeout = 300ms;
  LocalRuntime local(options);
  auto client = local.client();
  const inf::Task before = client.tasks.run(counter());
  const std::string error = failure_of(
      client, call("slow", {{"steps", 100000}, {"delay_ms", 50}, {"ignore_cancel", true}}));
  CHECK_THAT(error, Catch::Contains("exceeded the task timeout of 300 ms"));
  CHECK(wait_until([&] { return process_gone(before.output.at("pid").get<int>()); }));
  CHECK(client.tasks.run(counter()).output.at("count") == 1);
}

TEST_CASE("invalid input fails the task with a message naming the field") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const std::string error = failure_of(client, {{"app", kApp}, {"input", {{"text", ""}}}});
  CHECK_THAT(error, Catch::Contains("input.text"));
  CHECK_THAT(failure_of(client, {{"app", kApp}, {"input", {{"text", "ok"}, {"count", 11}}}}),
             Catch::Contains("input.count") && Catch::Contains("<= 10"));
  // An unknown function is refused when the task is created: the functions came with `ready`.
  const auto created = http_request(local.port(), "POST", "/apps/run",
                                    R"({"app":"tests/test-app:nope","input":{}})");
  CHECK(created.status == 404);
  CHECK_THAT(created.body, Catch::Contains("inspect_file"));
}

TEST_CASE(
    "an uploaded input file reaches the app as a local path and its output file comes back as a "
    "uri") {
  LocalRuntime local(hosting());
  auto client = local.client();
  TempDir dir;
  const auto poem = dir.write("poem.txt", "roses are red\n");
  const auto uploaded = client.files.upload(poem);
  const inf::Task done = client.tasks.run(call("inspect_file", {{"file", uploaded.uri}}));
  CHECK(done.input.at("file") == uploaded.uri);  // the task keeps what the client sent
  const std::string seen = done.output.at("path");
  CHECK(fs::path(seen).is_absolute());
  CHECK(done.output.at("text") == "roses are red\n");
  const std::string upper = done.output.at("upper");
  CHECK(upper.rfind(local.url() + "/files/", 0) == 0);
  CHECK(read_file(client.files.download(upper, dir.path() / "upper.txt")) == "ROSES ARE RED\n");

  // A data: URI where the app takes a File is decoded for it; elsewhere it is just text.
  // (Sent raw: the C++ client would upload data URIs itself.)
  const auto run_raw = [&](const json& body) {
    const auto created = http_request(local.port(), "POST", "/apps/run", body.dump());
    REQUIRE(created.status == 200);
    return client.tasks.wait_for_completion(created.json().at("data").at("id").get<std::string>());
  };
  CHECK(
      run_raw(call("inspect_file", {{"file", "data:text/plain;base64,YWJj"}})).output.at("text") ==
      "abc");
  CHECK(run_raw({{"app", kApp}, {"input", {{"text", "data:,hi"}}}}).output.at("text") ==
        "data:,hi");
}

TEST_CASE("an app program never gets a local path a client names where it takes a File") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const auto create = [&](const json& body) {
    return http_request(local.port(), "POST", "/apps/run", body.dump());
  };
  // Every way infsh::File would read a client's value as a local file, in input and setup.
  const std::vector<std::pair<json, std::string>> refused = {
      {call("inspect_file", {{"file", "/etc/passwd"}}), "input.file: "},
      {call("inspect_file", {{"file", "etc/passwd"}}), "input.file: "},
      {call("inspect_file", {{"file", "file:///etc/passwd"}}), "input.file: "},
      {call("inspect_file", {{"file", "FILE://localhost/etc/passwd"}}), "input.file: "},
      {call("inspect_file", {{"file", {{"path", "/etc/passwd"}}}}), "input.file.path: "},
      {call("inspect_file", {{"file", {{"uri", "/etc/passwd"}, {"x", 1}}}}), "input.file.uri: "},
      {call("run", {{"text", "hi"}, {"file", "/etc/passwd"}}), "input.file: "},
      {{{"app", kApp}, {"function", "counter"}, {"setup", {{"suffix", "/etc/passwd"}}}},
       "setup.suffix: "},
      {{{"app", kApp}, {"function", "counter"}, {"setup", {{"suffix", {{"path", "/etc/hosts"}}}}}},
       "setup.suffix.path: "},
  };
  for (const auto& [body, field] : refused) {
    INFO(body.dump());
    const auto created = create(body);
    CHECK(created.status == 400);
    CHECK_THAT(created.json().value("detail", ""), Catch::StartsWith(field));
    CHECK(created.body.find("root:") == std::string::npos);
  }
  CHECK(local.runtime().stats().tasks == 0);

  // A path where the app takes no File is just text; a data: URI where it does is a file.
  CHECK(client.tasks.run(call("run", {{"text", "/etc/passwd"}})).output.at("text") ==
        "/etc/passwd");
  const auto created =
      create({{"app", kApp}, {"function", "counter"}, {"setup", {{"suffix", "data:,+data"}}}});
  REQUIRE(created.status == 200);
  const inf::Task counted =
      client.tasks.wait_for_completion(created.json().at("data").at("id").get<std::string>());
  CHECK(counted.output.at("label") == "default+data");
}

TEST_CASE("a session keeps its worker, so the app's state counts 1, 2, 3") {
  LocalRuntime local(hosting());
  auto client = local.client();
  json params = counter();
  params["session"] = "new";
  const inf::Task first = client.tasks.run(params);
  REQUIRE(first.session_id.rfind("sess_", 0) == 0);
  params["session"] = first.session_id;
  const inf::Task second = client.tasks.run(params);
  const inf::Task third = client.tasks.run(params);
  CHECK(first.output.at("count") == 1);
  CHECK(second.output.at("count") == 2);
  CHECK(third.output.at("count") == 3);
  CHECK(third.output.at("pid") == first.output.at("pid"));
  // Meanwhile a call outside the session has a worker of its own.
  const inf::Task outside = client.tasks.run(counter());
  CHECK(outside.output.at("count") == 1);
  CHECK(outside.output.at("pid") != first.output.at("pid"));
}

json in_session(json params, const std::string& session) {
  params["session"] = session;
  return params;
}

TEST_CASE(
    "a session whose worker crashes is lost: it ends, and its next call throws WorkerLostError") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const inf::Task first = client.tasks.run(in_session(counter(), "new"));
  const std::string session = first.session_id;
  CHECK(client.tasks.run(in_session(counter(), session)).output.at("count") == 2);
  // The running call fails as any crash does.
  CHECK_THAT(failure_of(client, in_session(call("crash"), session)),
             Catch::Contains("the app process was killed by signal 6") &&
                 Catch::Contains("about to crash"));
  try {
    client.tasks.run(in_session(counter(), session));
    FAIL("the call should have thrown WorkerLostError");
  } catch (const inf::WorkerLostError& e) {
    CHECK(e.status() == 500);
    CHECK(e.code() == "WORKER_LOST");
    CHECK_THAT(e.what(), Catch::Contains("session '" + session + "'") &&
                             Catch::Contains("was lost (the app process was killed by signal 6") &&
                             Catch::Contains("start a new session"));
  }
  const inf::Session lost = client.sessions.get(session);
  CHECK(lost.status == "ended");
  CHECK_FALSE(lost.ended_at.empty());
  CHECK(lost.call_count == 2);
  CHECK(lost.raw.at("error").at("code") == "WORKER_LOST");
  CHECK_THAT(lost.raw.at("error").at("message").get<std::string>(), Catch::Contains(session));
  CHECK_THROWS_AS(client.sessions.keepalive(session), inf::WorkerLostError);
  CHECK(local.runtime().stats().active_sessions == 0);
  // On the wire: a 500 with the code every client maps.
  const auto raw =
      http_request(local.port(), "POST", "/apps/run", in_session(counter(), session).dump());
  CHECK(raw.status == 500);
  CHECK(raw.json().at("error").at("code") == "WORKER_LOST");
  // A new session starts from scratch.
  CHECK(client.tasks.run(in_session(counter(), "new")).output.at("count") == 1);
}

TEST_CASE("calls waiting in a session whose worker is killed fail with the session's loss") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const inf::Task first = client.tasks.run(in_session(counter(), "new"));
  const std::string session = first.session_id;
  const inf::Task slow = client.tasks.run(
      in_session(call("slow", {{"steps", 100000}, {"delay_ms", 20}}), session), {.wait = false});
  REQUIRE(wait_until([&] { return has_log(client.tasks.get(slow.id), "step 1"); }));
  const inf::Task waiting = client.tasks.run(in_session(counter(), session), {.wait = false});
  CHECK(client.tasks.get(waiting.id).status == inf::TaskStatus::queued);
  REQUIRE(::kill(first.output.at("pid").get<int>(), SIGKILL) == 0);
  CHECK_THROWS_WITH(client.tasks.wait_for_completion(slow.id),
                    Catch::Contains("the app process was killed by signal 9"));
  CHECK_THROWS_WITH(client.tasks.wait_for_completion(waiting.id),
                    Catch::Contains("the worker process of session '" + session + "' was lost") &&
                        Catch::Contains("start a new session"));
  CHECK(client.sessions.get(session).status == "ended");
  CHECK_THROWS_AS(client.tasks.run(in_session(counter(), session)), inf::WorkerLostError);
}

TEST_CASE("a session whose worker dies while idle is lost instead of going on without its state") {
  LocalRuntime local(hosting());
  auto client = local.client();
  const inf::Task first = client.tasks.run(in_session(counter(), "new"));
  const int pid = first.output.at("pid").get<int>();
  REQUIRE(::kill(pid, SIGKILL) == 0);
  REQUIRE(wait_until([&] { return process_gone(pid); }));
  // The call that finds it dead fails (whether it sees that before or after sending its run).
  CHECK_THAT(failure_of(client, in_session(counter(), first.session_id)),
             Catch::Contains("was killed by signal 9"));
  CHECK_THROWS_AS(client.tasks.run(in_session(counter(), first.session_id)), inf::WorkerLostError);
  CHECK(client.sessions.get(first.session_id).status == "ended");
}

TEST_CASE("a lost session stays lost for the next runtime on the same data directory") {
  TempDir data;
  auto options = hosting();
  options.data_dir = data.path().string();
  std::string session;
  {
    LocalRuntime first(options);
    auto client = first.client();
    session = client.tasks.run(in_session(counter(), "new")).session_id;
    CHECK_THAT(failure_of(client, in_session(call("crash"), session)),
               Catch::Contains("about to crash"));
  }
  LocalRuntime second(options);
  auto client = second.client();
  CHECK(client.sessions.get(session).status == "ended");  // not "expired" like active ones
  CHECK_THROWS_WITH(client.tasks.run(in_session(counter(), session)),
                    Catch::Contains("killed by signal 6"));
  CHECK_THROWS_AS(client.tasks.run(in_session(counter(), session)), inf::WorkerLostError);
}

TEST_CASE("a session handle whose worker crashes throws WorkerLostError on its next call") {
  LocalRuntime local(hosting());
  auto client = local.client();
  auto session = client.sessions.open(kApp, {.function = "counter"});
  CHECK(session.first_result().output.at("count") == 1);
  CHECK_THROWS_AS(session.call({}, "crash"), inf::TaskFailedError);
  CHECK_THROWS_AS(session.call({}, "counter"), inf::WorkerLostError);
  CHECK(session.info().status == "ended");
  CHECK_NOTHROW(session.end());  // ending a lost session changes nothing
}

TEST_CASE(
    "a worker gets its app id, worker id, a file cache, the session id, and no descriptor of the "
    "runtime") {
  TempDir dir;
  const auto marker = dir.write("runtime-only.txt", "the runtime's, not the app's");
  const int inheritable = ::open(marker.c_str(), O_RDONLY);  // no O_CLOEXEC on purpose
  REQUIRE(inheritable >= 0);
  auto options = hosting();
  options.app_programs = {{"me/renamed", kTestApp}};
  LocalRuntime local(options);
  auto client = local.client();
  json params = {{"app", "me/renamed"}, {"function", "environment"}, {"input", json::object()}};
  const inf::Task plain = client.tasks.run(params);
  CHECK(plain.output.at("app_id") == "me/renamed");  // the --app name wins over the program's
  CHECK(plain.output.at("worker_id").get<std::string>().rfind("worker_", 0) == 0);
  CHECK(plain.output.at("session_id") == "");
  CHECK_THAT(plain.output.at("file_cache_dir").get<std::string>(), Catch::EndsWith("file-cache"));
  for (const auto& target : plain.output.at("open_files")) {
    CHECK_THAT(target.get<std::string>(), !Catch::Contains("runtime-only.txt"));
  }
  params["session"] = "new";
  const inf::Task in_session = client.tasks.run(params);
  CHECK(in_session.output.at("session_id") == in_session.session_id);
  ::close(inheritable);
}

TEST_CASE("stopping the runtime shuts every worker down and leaves no process behind") {
  std::vector<int> pids;
  {
    LocalRuntime local(hosting());
    auto client = local.client();
    pids.push_back(client.tasks.run(counter({{"label", "a"}})).output.at("pid").get<int>());
    pids.push_back(client.tasks.run(counter({{"label", "b"}})).output.at("pid").get<int>());
    json in_session = counter();
    in_session["session"] = "new";
    pids.push_back(client.tasks.run(in_session).output.at("pid").get<int>());
    CHECK(local.runtime().stats().app_processes == 3);
    local.runtime().stop();
    CHECK(local.runtime().stats().app_processes == 0);
  }
  for (const int pid : pids) CHECK(process_gone(pid));
}

TEST_CASE("a line from an app program nested deeper than 256 levels is its output, not a message") {
  TempDir dir;
  // A worker that answers its run with a result nested too deeply, then exits.
  std::string text = R"SH(#!/bin/sh
echo '{"type":"ready","protocol":1,"app":"tests/deep","default_function":"run","functions":{"run":{"input_schema":{},"output_schema":{},"input_files":[]}},"setup_schema":null,"setup_files":[]}'
while IFS= read -r line; do
  id=$(printf '%s\n' "$line" | sed -n 's/.*"task_id":"\([^"]*\)".*/\1/p')
  case "$line" in
    *'"type":"setup"'*) printf '{"type":"setup_done","task_id":"%s"}\n' "$id" ;;
    *'"type":"run"'*) printf '{"type":"result","task_id":"%s","output":{"deep":DEEP},"files":[]}\n' "$id"; exit 3 ;;
    *'"type":"shutdown"'*) exit 0 ;;
  esac
done
)SH";
  text.replace(text.find("DEEP"), 4, std::string(300, '[') + std::string(300, ']'));
  const auto script = dir.write("deep-worker.sh", text);
  ::chmod(script.c_str(), 0755);
  auto options = LocalRuntime::quiet();
  options.app_programs = {{"tests/deep", script.string()}};
  LocalRuntime local(options);
  auto client = local.client();
  const inf::Task queued = client.tasks.run({{"app", "tests/deep"}}, {.wait = false});
  inf::Task ended = queued;
  try {
    ended = client.tasks.wait_for_completion(queued.id);
    FAIL("a result nested too deeply was taken");
  } catch (const inf::TaskFailedError& e) {
    ended = e.task();
  }
  CHECK(ended.status == inf::TaskStatus::failed);
  CHECK_THAT(ended.error, Catch::Contains("exited with status 3"));
  CHECK(has_log(ended, R"((stdout) {"type":"result")"));
}

TEST_CASE("infsh-local --app refuses bad values at start-up with status 1, naming them") {
  TempDir dir;
  const auto run = [](const std::vector<std::string>& args) {
    std::vector<std::string> argv{INFSH_LOCAL_PROGRAM, "--log-level", "off"};
    argv.insert(argv.end(), args.begin(), args.end());
    inferencesh::testing::Subprocess child(argv);
    const auto status = child.wait(10s);
    while (child.read_line(5s)) {
    }  // the rest of its output, up to the end
    return std::make_pair(status.value_or(-1), child.output());
  };
  const auto [no_equals, no_equals_text] = run({"--app", "tests/x"});
  CHECK(no_equals == 1);
  CHECK_THAT(no_equals_text, Catch::Contains("--app 'tests/x' is not NAMESPACE/NAME=PATH"));

  const auto [bad_name, bad_name_text] = run({"--app", "no slash=" + kTestApp});
  CHECK(bad_name == 1);
  CHECK_THAT(bad_name_text, Catch::Contains("'no slash'") && Catch::Contains("NAMESPACE/NAME"));

  const auto [missing, missing_text] = run({"--app", "tests/x=/nonexistent/program"});
  CHECK(missing == 1);
  CHECK_THAT(missing_text,
             Catch::Contains("/nonexistent/program") && Catch::Contains("no such file"));

  const auto plain = dir.write("plain.txt", "not a program");
  const auto [not_executable, not_executable_text] = run({"--app", "tests/x=" + plain.string()});
  CHECK(not_executable == 1);
  CHECK_THAT(not_executable_text, Catch::Contains("not executable"));

  // An executable that is not an app program: it never says `ready`.
  const auto script = dir.write("not-an-app.sh", "#!/bin/sh\necho 'no worker here' >&2\nexit 4\n");
  ::chmod(script.c_str(), 0755);
  const auto [not_app, not_app_text] = run({"--app", "tests/x=" + script.string()});
  CHECK(not_app == 1);
  CHECK_THAT(not_app_text, Catch::Contains("exited with status 4 before it was ready") &&
                               Catch::Contains("no worker here"));

  const auto [bad_grace, bad_grace_text] = run({"--cancel-grace", "soon"});
  CHECK(bad_grace == 2);
  CHECK_THAT(bad_grace_text, Catch::Contains("--cancel-grace"));
}

#if defined(INFSH_EXAMPLE_HELLO_PROGRAM)

namespace {

inf::Client client_for(const std::string& url) {
  inf::ClientOptions options;
  options.api_key = "unused";
  options.base_url = url;
  options.request_timeout = 10000ms;
  options.wait.poll_interval = 10ms;
  return inf::inference(std::move(options));
}

}  // namespace

TEST_CASE("the hello example runs in a child infsh-local given --app") {
  ChildRuntime child({"--app", std::string("examples/hello=") + INFSH_EXAMPLE_HELLO_PROGRAM,
                      "--task-timeout", "30", "--log-level", "off"});
  REQUIRE(child.first_line().rfind("http://127.0.0.1:", 0) == 0);
  auto client = client_for(child.first_line());
  const inf::Task done = client.tasks.run(
      {{"app", "examples/hello"}, {"input", {{"name", "Ada"}, {"excited", true}}}});
  CHECK(done.output.at("greeting") == "Hello, Ada!");
  CHECK(has_log(done, "greeting Ada"));
  child.signal(SIGTERM);
  CHECK(child.wait_exit() == 0);
}

TEST_CASE("hello serve starts infsh-local serving the app under its own name") {
  inferencesh::testing::Subprocess serve(
      {INFSH_EXAMPLE_HELLO_PROGRAM, "serve", "--port", "0", "--", "--log-level", "off"},
      {std::string("INFSH_LOCAL=") + INFSH_LOCAL_PROGRAM});
  const auto line = serve.read_line_containing("http://127.0.0.1:", 10s);
  REQUIRE(line);
  auto client = client_for(line->substr(line->find("http://")));
  const inf::Task done = client.tasks.run({{"app", "local/hello"}, {"input", {{"name", "Grace"}}}});
  CHECK(done.output.at("greeting") == "Hello, Grace.");
  serve.signal(SIGTERM);
  CHECK(serve.wait(10s) == 0);
}

#endif  // INFSH_EXAMPLE_HELLO_PROGRAM

TEST_CASE("worker messages: ready is read with its functions, exits are described") {
  using infsh::local::describe_exit;
  using infsh::local::parse_ready;
  const auto ready = parse_ready(json::parse(R"({"type": "ready", "protocol": 1, "app": "a/b",
      "default_function": "run", "functions": {"edit": {"input_files": ["/image", "/masks/*"]},
      "run": {"input_files": []}}})"));
  CHECK(ready.functions == std::vector<std::string>{"run", "edit"});
  CHECK(ready.input_files.at("edit") == std::vector<std::string>{"/image", "/masks/*"});
  CHECK_THROWS_WITH(parse_ready(json{{"type", "log"}}), Catch::Contains("not 'ready'"));
  CHECK_THROWS_WITH(
      parse_ready(
          json{{"type", "ready"}, {"protocol", 2}, {"functions", {{"run", json::object()}}}}),
      Catch::Contains("protocol 2"));
  CHECK_THROWS_WITH(
      parse_ready(json{{"type", "ready"}, {"protocol", 1}, {"functions", json::object()}}),
      Catch::Contains("no functions"));
  CHECK(describe_exit(3 << 8) == "exited with status 3");
  CHECK(describe_exit(SIGSEGV) == "was killed by signal 11 (Segmentation fault)");
  CHECK(infsh::local::error_text({{"kind", "invalid_input"},
                                  {"message", "input.a: bad"},
                                  {"issues",
                                   {{{"path", "input.a"}, {"message", "bad"}},
                                    {{"path", "input.b"}, {"message", "worse"}}}}}) ==
        "input.a: bad; input.b: worse");
}

#endif  // INFSH_TEST_APP_PROGRAM
