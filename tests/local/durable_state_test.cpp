// Durable state: tasks, files and sessions kept in SQLite under the data directory, served again
// by the next runtime on it, after a clean stop and after a kill -9.

#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "local_runtime_fixture.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

std::uint16_t port_of(const std::string& url) {
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::string path_of(const std::string& url) {
  const auto scheme = url.find("://");
  return url.substr(url.find('/', scheme + 3));
}

inf::Client client_for(const std::string& url) {
  inf::ClientOptions options;
  options.api_key = "any";
  options.base_url = url;
  options.retry.initial_backoff = std::chrono::milliseconds(10);
  return inf::inference(std::move(options));
}

infsh::local::RuntimeOptions on(const TempDir& data) {
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  return options;
}

}  // namespace

TEST_CASE("a runtime on the data directory of a stopped one serves its tasks, files and sessions") {
  TempDir data;
  TempDir scratch;
  std::string echo_id;
  std::string cancelled_id;
  std::string session_id;
  inf::FileRef file;
  std::uint16_t port = 0;
  {
    LocalRuntime first(on(data));
    port = first.port();
    auto client = first.client();
    echo_id = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"kept", true}}}}).id;
    file = client.files.upload_bytes("durable bytes", {.filename = "keep.txt"});
    session_id = client.tasks.run({{"app", "infsh/counter"}, {"session", "new"}}).session_id;
    cancelled_id =
        client.tasks
            .run({{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 60000}}}},
                 {.wait = false})
            .id;
    CHECK(wait_until(
        [&] { return client.tasks.get(cancelled_id).status == inf::TaskStatus::running; }));
  }  // stopped: the running task is cancelled, everything is written, the directory released

  // Same port, so even the old uris work as they are.
  auto options = on(data);
  options.port = port;
  LocalRuntime second(options);
  auto client = second.client();
  CHECK(second.runtime().stats().tasks == 3);  // echo, counter, progress
  const inf::Task echo = client.tasks.get(echo_id);
  CHECK(echo.status == inf::TaskStatus::completed);
  CHECK(echo.output == json{{"kept", true}});
  CHECK(client.tasks.wait_for_completion(echo_id).output == json{{"kept", true}});
  CHECK(client.tasks.get(cancelled_id).status == inf::TaskStatus::cancelled);

  const inf::FileRef stored = client.files.get(file.id);
  CHECK(stored.uri == file.uri);
  CHECK(stored.filename == "keep.txt");
  CHECK(read_file(client.files.download(file, scratch.path() / "keep.txt")) == "durable bytes");

  // The session's instance went away with the first runtime.
  const inf::Session session = client.sessions.get(session_id);
  CHECK(session.status == "expired");
  CHECK(session.call_count == 1);
  CHECK_THROWS_AS(client.tasks.run({{"app", "infsh/counter"}, {"session", session_id}}),
                  inf::SessionExpiredError);
}

TEST_CASE("two runtimes never share a data directory") {
  TempDir data;
  LocalRuntime first(on(data));
  CHECK_THROWS_WITH(infsh::local::Runtime(on(data)), Catch::Contains("in use by another"));
  first.runtime().stop();
  CHECK_NOTHROW(infsh::local::Runtime(on(data)));  // released by stop()
}

TEST_CASE("a second runtime is refused on a directory in use even after its lock file is deleted") {
  TempDir data;
  LocalRuntime first(on(data));
  auto client = first.client();
  const std::string running =
      client.tasks
          .run({{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 600000}}}},
               {.wait = false})
          .id;
  CHECK(wait_until([&] { return client.tasks.get(running).status == inf::TaskStatus::running; }));

  REQUIRE(fs::remove(data.path() / "lock"));
  CHECK_THROWS_WITH(infsh::local::Runtime(on(data)),
                    Catch::Contains("is in use by another infsh-local"));
  inferencesh::testing::Subprocess program(
      {INFSH_LOCAL_PROGRAM, "--data-dir", data.path().string(), "--log-level", "off"});
  CHECK(program.wait(std::chrono::seconds(10)) == 1);
  CHECK_THAT(program.output(), Catch::Contains("is in use by another infsh-local"));

  // The first runtime's task went on undisturbed, and its end is its own.
  CHECK(client.tasks.get(running).status == inf::TaskStatus::running);
  client.tasks.cancel(running);
  CHECK_THROWS_AS(client.tasks.wait_for_completion(running), inf::CancelledError);
  first.runtime().stop();
  LocalRuntime next(on(data));
  CHECK(next.client().tasks.get(running).status == inf::TaskStatus::cancelled);
}

TEST_CASE("every creation and cancel answered before a kill -9 under load is there afterwards") {
  TempDir data;
  std::mutex mutex;
  std::vector<std::string> created;
  std::vector<std::string> cancelled;
  {
    ChildRuntime child(
        {"--data-dir", data.path().string(), "--workers", "1", "--log-level", "off"});
    REQUIRE(child.first_line().rfind("http://", 0) == 0);
    auto client = client_for(child.first_line());
    // The one worker stays busy, so every task created below waits in the queue.
    const std::string busy =
        client.tasks
            .run({{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 600000}}}},
                 {.wait = false})
            .id;
    CHECK(wait_until([&] { return client.tasks.get(busy).status == inf::TaskStatus::running; }));
    // Rows worth writing: callers 0 and 1 send large ones, which keep the database busy while the
    // others' small creations and cancels are answered.
    const std::string small(1024, 'x');
    const std::string large(4 << 20, 'y');
    std::vector<std::thread> callers;
    for (int c = 0; c < 8; ++c) {
      callers.emplace_back([&, c] {
        try {
          for (int i = 0;; ++i) {
            const std::string id =
                client.tasks
                    .run({{"app", "infsh/echo"},
                          {"input", {{"c", c}, {"i", i}, {"p", c < 2 ? large : small}}}},
                         {.wait = false})
                    .id;
            {
              std::lock_guard lock(mutex);
              created.push_back(id);
            }
            if (i % 2 == 0) {
              client.tasks.cancel(id);
              std::lock_guard lock(mutex);
              cancelled.push_back(id);
            }
          }
        } catch (const inf::Error&) {
          // The runtime is gone: what this caller was told so far is what counts.
        }
      });
    }
    CHECK(wait_until(
        [&] {
          std::lock_guard lock(mutex);
          return created.size() >= 600;
        },
        std::chrono::seconds(60)));
    child.signal(SIGKILL);
    CHECK(child.wait_exit() == 128 + SIGKILL);
    for (auto& caller : callers) caller.join();
  }

  ChildRuntime again({"--data-dir", data.path().string(), "--log-level", "off"});
  REQUIRE(again.first_line().rfind("http://", 0) == 0);
  const auto port = port_of(again.first_line());
  std::vector<std::string> missing;
  for (const auto& id : created) {
    if (http_request(port, "GET", "/tasks/" + id + "/status").status != 200) missing.push_back(id);
  }
  INFO(missing.size() << " of " << created.size() << " answered creations are missing");
  CHECK(missing.empty());
  std::size_t not_cancelled = 0;
  for (const auto& id : cancelled) {
    const auto status = http_request(port, "GET", "/tasks/" + id + "/status");
    if (status.status != 200 || status.json().at("data").at("status") != 12) ++not_cancelled;
  }
  INFO(not_cancelled << " of " << cancelled.size() << " answered cancels are not cancelled");
  CHECK(not_cancelled == 0);
}

TEST_CASE("finished tasks kept in memory stay within their byte budget and are read back") {
  TempDir data;
  auto options = on(data);
  options.finished_task_cache_bytes = 1 << 20;
  LocalRuntime local(options);
  auto client = local.client();
  const std::string text(300 * 1000, 'x');  // about 600 kB a task: input and output
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(
        client.tasks.run({{"app", "infsh/echo"}, {"input", {{"i", i}, {"text", text}}}}).id);
  }
  CHECK(wait_until([&] { return local.runtime().stats().pending_task_writes == 0; }));
  const auto stats = local.runtime().stats();
  CHECK(stats.cached_finished_task_bytes <= (1 << 20));
  CHECK(stats.cached_finished_tasks <= 1);
  for (int i = 0; i < 10; ++i) {
    const inf::Task task = client.tasks.get(ids[static_cast<std::size_t>(i)]);
    CHECK(task.output.at("i") == i);
    CHECK(task.output.at("text").get_ref<const std::string&>().size() == text.size());
  }
}

TEST_CASE("a task beyond the limit on unfinished input is refused with 503 until others end") {
  auto options = LocalRuntime::quiet();
  options.max_unfinished_input_bytes = 100 * 1000;
  LocalRuntime local(options);
  auto client = local.client();
  // One task is always taken, however large.
  const std::string big(150 * 1000, 'x');
  const std::string slow = client.tasks
                               .run({{"app", "infsh/progress"},
                                     {"input", {{"steps", 1}, {"delay_ms", 600000}}},
                                     {"metadata", {{"note", big}}}},
                                    {.wait = false})
                               .id;
  const json body = {{"app", "infsh/echo"}, {"input", {{"text", std::string(1000, 'y')}}}};
  const auto refused = http_request(local.port(), "POST", "/apps/run", body.dump());
  CHECK(refused.status == 503);
  CHECK_THAT(refused.json().at("detail").get<std::string>(),
             Catch::Contains("--max-unfinished-input-bytes"));
  client.tasks.cancel(slow);
  CHECK(wait_until([&] { return local.runtime().stats().active_tasks == 0; }));
  CHECK(http_request(local.port(), "POST", "/apps/run", body.dump()).status == 200);
}

TEST_CASE("infsh-local takes its memory bounds as sizes and refuses malformed ones") {
  using inferencesh::testing::Subprocess;
  Subprocess help({INFSH_LOCAL_PROGRAM, "--help"});
  CHECK(help.wait(std::chrono::seconds(10)) == 0);
  CHECK_THAT(help.output(), Catch::Contains("--finished-task-cache-bytes N") &&
                                Catch::Contains("--max-unfinished-input-bytes N"));
  for (const std::string bad : {"1.5GiB", "12Q", "-1", "", "0", "99999999999GiB"}) {
    INFO(bad);
    Subprocess refused({INFSH_LOCAL_PROGRAM, "--finished-task-cache-bytes", bad});
    CHECK(refused.wait(std::chrono::seconds(10)) == 2);
    CHECK_THAT(refused.output(),
               Catch::Contains("--finished-task-cache-bytes expects a size in bytes"));
  }
  Subprocess started({INFSH_LOCAL_PROGRAM, "--finished-task-cache-bytes", "512KiB",
                      "--max-unfinished-input-bytes=2GiB", "--log-level", "off"});
  CHECK(started.read_line_containing("http://", std::chrono::seconds(10)));
  started.signal(SIGTERM);
  CHECK(started.wait(std::chrono::seconds(10)) == 0);
}

TEST_CASE("after a kill -9 the next runtime fails the tasks that were running and keeps the rest") {
  TempDir data;
  TempDir scratch;
  std::string echo_id;
  std::string running_id;
  std::string queued_id;
  std::string session_id;
  inf::FileRef file;
  {
    ChildRuntime child(
        {"--data-dir", data.path().string(), "--workers", "1", "--log-level", "off"});
    REQUIRE(child.first_line().rfind("http://", 0) == 0);
    auto client = client_for(child.first_line());
    echo_id = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"n", 1}}}}).id;
    file = client.files.upload_bytes("survives kill -9", {.filename = "k.txt"});
    session_id = client.tasks.run({{"app", "infsh/counter"}, {"session", "new"}}).session_id;
    running_id =
        client.tasks
            .run({{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 600000}}}},
                 {.wait = false})
            .id;
    queued_id = client.tasks.run({{"app", "infsh/echo"}}, {.wait = false}).id;  // one worker: waits
    CHECK(wait_until(
        [&] { return client.tasks.get(running_id).status == inf::TaskStatus::running; }));
    // Task changes are written behind: wait until the database has them all.
    const auto port = port_of(child.first_line());
    CHECK(wait_until([&] {
      return http_request(port, "GET", "/health").json().at("data").at("pending_writes") == 0;
    }));
    child.signal(SIGKILL);
    CHECK(child.wait_exit() == 128 + SIGKILL);
  }

  ChildRuntime again({"--data-dir", data.path().string()});
  REQUIRE(again.first_line().rfind("http://", 0) == 0);
  auto client = client_for(again.first_line());
  for (const auto& id : {running_id, queued_id}) {
    const inf::Task task = client.tasks.get(id);
    CHECK(task.status == inf::TaskStatus::failed);
    CHECK_THAT(task.error, Catch::Contains("the runtime restarted while the task was running"));
    CHECK_THROWS_AS(client.tasks.wait_for_completion(id), inf::TaskFailedError);
  }
  CHECK(client.tasks.get(echo_id).output == json{{"n", 1}});
  const inf::FileRef stored = client.files.get(file.id);
  CHECK(read_file(client.files.download(stored, scratch.path() / "k.txt")) == "survives kill -9");
  // The old uri's path works on the new address: the token is what counts.
  const auto port = port_of(again.first_line());
  CHECK(http_request(port, "GET", path_of(file.uri)).body == "survives kill -9");
  CHECK(client.sessions.get(session_id).status == "expired");
  // No half-written leftovers: the upload area is empty.
  CHECK(fs::is_empty(data.path() / "uploads"));
  again.signal(SIGTERM);
  CHECK(again.wait_exit() == 0);
}

TEST_CASE("with the database in memory everything works and nothing is kept") {
  auto options = LocalRuntime::quiet();
  options.data_dir = ":memory:";
  TempDir scratch;
  {
    LocalRuntime local(options);
    auto client = local.client();
    const auto file = client.files.upload_bytes("in memory", {.filename = "m.txt"});
    const inf::Task info =
        client.tasks.run({{"app", "infsh/file-info"}, {"input", {{"file", file.uri}}}});
    CHECK(info.output.at("size") == 9);
    CHECK(read_file(client.files.download(info.output.at("reversed").get<std::string>(),
                                          scratch.path() / "r.txt")) == "yromem ni");
  }
  LocalRuntime fresh(options);
  CHECK(fresh.runtime().stats().tasks == 0);
}

TEST_CASE("infsh-local refuses a data directory it cannot use, saying why") {
  TempDir data;
  const auto not_a_directory = data.write("file", "x");
  ChildRuntime child({"--data-dir", not_a_directory.string()});
  CHECK(child.first_line().empty());
  CHECK(child.wait_exit() == 1);
}
