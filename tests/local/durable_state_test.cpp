// Durable state: tasks, files and sessions kept in SQLite under the data directory, served again
// by the next runtime on it, after a clean stop and after a kill -9.

#include <catch2/catch.hpp>

#include <signal.h>

#include "local_runtime_fixture.hpp"

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
