// The async client's files and sessions against the scripted server: the requests the blocking
// client sends (bodies, the key only to the API's origin), retries, redirects, cancellation at
// every stage of a transfer, downloads that leave no file behind, and shutdown with transfers
// in flight.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/async_client.hpp"
#include "inferencesh/errors.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"
#include "support/temp_dir.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using inf::testing::kTestApiKey;
using inf::testing::ndjson_reply;
using inf::testing::read_file;
using inf::testing::RecordedRequest;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using inf::testing::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// The API (POST /files) on one server, the storage its upload URLs point at on another.
struct ApiAndStorage {
  ScriptedServer storage{[](const RecordedRequest&) { return Reply::status(200); }};
  ScriptedServer api;

  explicit ApiAndStorage(ScriptedServer::Handler other = {}) {
    api.set_handler([this, other](const RecordedRequest& request) {
      if (request.method == "POST" && request.path == "/files") {
        const auto slot = request.json()["files"][0];
        return Reply::json(200, json::array({{{"id", "file_1"},
                                              {"uri", storage.base_url() + "/stored/1"},
                                              {"upload_url", storage.base_url() + "/upload/1"},
                                              {"filename", slot.value("filename", "")},
                                              {"content_type", slot["content_type"]},
                                              {"size", slot["size"]}}}));
      }
      if (other) return other(request);
      return Reply::json(404, {{"detail", "unexpected " + request.method + " " + request.path}});
    });
  }
};

inf::AsyncClient async_client(const ScriptedServer& server) {
  return inf::async_inference(inf::testing::test_options(server));
}

/// Completes once, from whichever thread says so first.
class Signal {
 public:
  void set() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!promise_.is_set()) promise_.set_value();
  }
  void wait() { future_.get(); }

 private:
  std::mutex mutex_;
  inf::promise<void> promise_;
  inf::future<void> future_ = promise_.get_future();
};

}  // namespace

TEST_CASE(
    "an async upload sends the blocking client's POST, then the bytes to a foreign host "
    "without the key",
    "[async][files]") {
  ApiAndStorage servers;
  auto client = async_client(servers.api);
  const inf::FileRef file =
      client.files.upload_bytes("PNGDATA", {.filename = "data.bin", .content_type = "image/png"})
          .get();
  CHECK(file.id == "file_1");
  CHECK(file.uri == servers.storage.base_url() + "/stored/1");
  CHECK(file.filename == "data.bin");
  CHECK(file.size == 7);

  const auto api = servers.api.requests();
  REQUIRE(api.size() == 1);
  CHECK(api[0].method == "POST");
  CHECK(api[0].header("authorization") == std::string("Bearer ") + kTestApiKey);
  CHECK(
      api[0].body ==
      json{{"files",
            {{{"uri", ""}, {"filename", "data.bin"}, {"content_type", "image/png"}, {"size", 7}}}}}
          .dump());
  const auto storage = servers.storage.requests();
  REQUIRE(storage.size() == 1);
  CHECK(storage[0].method == "PUT");
  CHECK(storage[0].path == "/upload/1");
  CHECK(storage[0].body == "PNGDATA");
  CHECK(storage[0].header("content-type") == "image/png");
  CHECK_FALSE(storage[0].header("authorization").has_value());
}

TEST_CASE("an async upload of a path streams the file from disk and reports progress",
          "[async][files]") {
  TempDir dir;
  const std::string content(3 * 1024 * 1024 + 17, 'p');
  const auto path = dir.write("clip.mp4", content);
  ApiAndStorage servers;
  auto client = async_client(servers.api);
  std::atomic<std::uint64_t> last{0};
  std::atomic<std::uint64_t> total{0};
  inf::UploadFileOptions options;
  options.on_progress = [&](std::uint64_t done, std::uint64_t all) {
    last = done;
    total = all;
  };
  const inf::FileRef file = client.files.upload(path, options).get();
  CHECK(file.filename == "clip.mp4");
  CHECK(file.content_type == "video/mp4");
  CHECK(servers.api.requests().at(0).json()["files"][0]["size"] == content.size());
  const auto storage = servers.storage.requests();
  REQUIRE(storage.size() == 1);
  CHECK(storage[0].body == content);
  CHECK(last == content.size());
  CHECK(total == content.size());
}

TEST_CASE("an async upload takes a data URI, an existing path or base64, as files.upload does",
          "[async][files]") {
  TempDir dir;
  const auto path = dir.write("notes.txt", "some notes");
  ApiAndStorage servers;
  auto client = async_client(servers.api);
  CHECK(client.files.upload("data:image/png;base64,UE5HREFUQQ==").get().content_type ==
        "image/png");
  CHECK(client.files.upload(path.string()).get().content_type == "text/plain");
  CHECK(client.files.upload("UE5HREFUQQ==").get().content_type == "application/octet-stream");
  CHECK(client.files.upload(std::vector<std::uint8_t>{'a', 'b'}).get().size == 2);
  const auto storage = servers.storage.requests();
  REQUIRE(storage.size() == 4);
  CHECK(storage[0].body == "PNGDATA");
  CHECK(storage[1].body == "some notes");
  CHECK(storage[2].body == "PNGDATA");
  CHECK(storage[3].body == "ab");
}

TEST_CASE("an invalid async upload source fails its future before any request", "[async][files]") {
  ApiAndStorage servers;
  auto client = async_client(servers.api);
  CHECK_THROWS_WITH(client.files.upload("data:image/png;base64,@@@").get(),
                    Catch::Contains("not valid base64"));
  CHECK_THROWS_WITH(client.files.upload("/no/such/file.png").get(),
                    Catch::Contains("no such file"));
  CHECK_THROWS_AS(client.files.upload(fs::temp_directory_path()).get(), inf::InvalidArgumentError);
  CHECK(servers.api.request_count() == 0);
}

TEST_CASE(
    "an async upload retries a PUT answered 503 with the whole body, and a final status "
    "is the typed error",
    "[async][files]") {
  std::atomic<int> puts{0};
  ApiAndStorage servers;
  servers.storage.set_handler([&puts](const RecordedRequest&) {
    return ++puts == 1 ? Reply::json(503, {{"detail", "busy"}}) : Reply::status(200);
  });
  auto client = async_client(servers.api);
  CHECK(client.files.upload_bytes("0123456789").get().id == "file_1");
  const auto storage = servers.storage.requests();
  REQUIRE(storage.size() == 2);
  CHECK(storage[0].body == "0123456789");
  CHECK(storage[1].body == "0123456789");

  servers.storage.set_handler([](const RecordedRequest&) {
    return Reply::json(403, {{"detail", "signature expired"}});
  });
  try {
    client.files.upload_bytes("x").get();
    FAIL("expected PermissionDeniedError");
  } catch (const inf::PermissionDeniedError& e) {
    CHECK(e.method() == "PUT");
    CHECK_THAT(e.what(), Catch::Contains("signature expired"));
  }
}

TEST_CASE("an async upload whose answer has no upload URL is a clear error", "[async][files]") {
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::json(200, json::array({{{"id", "f1"}, {"uri", "u"}}}));
  });
  CHECK_THROWS_WITH(async_client(server).files.upload_bytes("x").get(),
                    Catch::Contains("no upload URL"));
}

TEST_CASE("an async upload cancelled before it starts sends nothing", "[async][files][cancel]") {
  ApiAndStorage servers;
  auto client = async_client(servers.api);
  inf::CancellationToken cancel;
  cancel.cancel();
  CHECK_THROWS_AS(client.files.upload_bytes("x", {.cancel = cancel}).get(), inf::CancelledError);
  CHECK(servers.api.request_count() == 0);
}

TEST_CASE("an async upload cancelled while the file is being created fails with CancelledError",
          "[async][files][cancel]") {
  ScriptedServer server([](const RecordedRequest&) { return Reply::status(200).stall(); });
  auto client = async_client(server);
  inf::CancellationToken cancel;
  auto upload = client.files.upload_bytes("x", {.cancel = cancel});
  REQUIRE(server.wait_for_requests(1, 10s));
  cancel.cancel();
  CHECK_THROWS_AS(upload.get(), inf::CancelledError);
  CHECK(server.wait_for_closed_connections(1, 10s));
}

TEST_CASE("an async upload cancelled in the middle of its PUT fails with CancelledError",
          "[async][files][cancel]") {
  TempDir dir;
  const auto path = dir.write("big.bin", std::string(64 * 1024 * 1024, 'b'));
  ApiAndStorage servers;
  auto client = async_client(servers.api);
  inf::CancellationToken cancel;
  std::atomic<std::uint64_t> cancelled_at{0};
  inf::UploadFileOptions options;
  options.cancel = cancel;
  // Runs on the loop thread while the body goes out.
  options.on_progress = [&](std::uint64_t done, std::uint64_t total) {
    if (done > 0 && done < total && cancelled_at == 0) {
      cancelled_at = done;
      cancel.cancel();
    }
  };
  CHECK_THROWS_AS(client.files.upload(path, options).get(), inf::CancelledError);
  CHECK(cancelled_at > 0);
  CHECK(servers.storage.request_count() == 0);  // the PUT never completed
  CHECK(servers.api.request_count() == 1);      // and nothing was retried
}

TEST_CASE(
    "an async download streams to disk under a safe name, with the key for the API's "
    "own host",
    "[async][files]") {
  TempDir dir;
  const std::string content(300000, 'd');
  ScriptedServer server([&](const RecordedRequest&) {
    return Reply::status(200)
        .header("Content-Disposition", "attachment; filename=\"../../escape.bin\"")
        .body(content);
  });
  auto client = async_client(server);
  std::atomic<std::uint64_t> last{0};
  const fs::path written =
      client.files
          .download(server.base_url() + "/f/1", dir.path(),
                    {.on_progress = [&](std::uint64_t done, std::uint64_t) { last = done; }})
          .get();
  CHECK(written == dir.path() / "escape.bin");
  CHECK(read_file(written) == content);
  CHECK(last == content.size());
  CHECK(server.requests().at(0).header("authorization") == std::string("Bearer ") + kTestApiKey);
}

TEST_CASE("an async download follows redirects, and the API key stays with the API's host",
          "[async][files]") {
  TempDir dir;
  ScriptedServer cdn([](const RecordedRequest&) { return Reply::status(200).body("cdn bytes"); });
  ScriptedServer api([&cdn](const RecordedRequest& request) {
    if (request.path == "/files/1/content") return Reply::status(307).header("Location", "/f/1");
    return Reply::status(302)
        .header("Location", cdn.base_url() + "/u/cat.png?sig=abc")
        .body("a redirect's body");
  });
  auto client = async_client(api);
  const fs::path written =
      client.files.download(api.base_url() + "/files/1/content", dir.path()).get();
  CHECK(written == dir.path() / "cat.png");  // named after where the bytes came from
  CHECK(read_file(written) == "cdn bytes");
  REQUIRE(api.request_count() == 2);
  CHECK(api.requests()[0].header("authorization") == "Bearer " + std::string(kTestApiKey));
  CHECK(api.requests()[1].header("authorization") == "Bearer " + std::string(kTestApiKey));
  REQUIRE(cdn.request_count() == 1);
  CHECK(cdn.requests()[0].target == "/u/cat.png?sig=abc");
  CHECK_FALSE(cdn.requests()[0].header("authorization").has_value());
}

TEST_CASE("an async download is never redirected away from http(s) nor without end",
          "[async][files]") {
  TempDir dir;
  ScriptedServer server([](const RecordedRequest& request) {
    if (request.path == "/to-file") {
      return Reply::status(302).header("Location", "file:///etc/passwd");
    }
    return Reply::status(302).header("Location", "/loop");
  });
  auto client = async_client(server);
  CHECK_THROWS_WITH(client.files.download(server.base_url() + "/to-file", dir.path() / "a").get(),
                    Catch::Contains("http(s)"));
  CHECK_THROWS_WITH(client.files.download(server.base_url() + "/loop", dir.path() / "b").get(),
                    Catch::Contains("redirects"));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE(
    "an async download answered 503 is tried again, and a 404 is NotFoundError with its "
    "detail",
    "[async][files]") {
  TempDir dir;
  std::atomic<int> calls{0};
  ScriptedServer server([&calls](const RecordedRequest& request) {
    if (request.path == "/missing") return Reply::json(404, {{"detail", "no such file here"}});
    return ++calls == 1 ? Reply::status(503) : Reply::status(200).body("second time lucky");
  });
  auto client = async_client(server);
  auto written = client.files.download(server.base_url() + "/f.txt", dir.path() / "f.txt");
  CHECK(read_file(written.get()) == "second time lucky");
  CHECK(calls == 2);
  try {
    client.files.download(server.base_url() + "/missing", dir.path() / "m").get();
    FAIL("expected NotFoundError");
  } catch (const inf::NotFoundError& e) {
    CHECK_THAT(e.what(), Catch::Contains("no such file here"));
  }
  CHECK_FALSE(fs::exists(dir.path() / "m"));
}

TEST_CASE("an async download cut in the middle of its body leaves no file behind",
          "[async][files]") {
  TempDir dir;
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::status(200).header("Content-Length", "1000").send("only part").drop();
  });
  auto client = async_client(server);
  CHECK_THROWS_AS(client.files.download(server.base_url() + "/f.bin", dir.path() / "f.bin").get(),
                  inf::ConnectionError);
  CHECK(server.request_count() > 1);  // retried, as the blocking client does
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("an async download to an explicit path keeps an existing file unless overwriting",
          "[async][files]") {
  TempDir dir;
  ScriptedServer server([](const RecordedRequest&) { return Reply::status(200).body("new"); });
  auto client = async_client(server);
  const auto target = dir.write("existing.txt", "old");
  CHECK_THROWS_WITH(
      client.files.download(server.base_url() + "/x", target, {.overwrite = false}).get(),
      Catch::Contains("already exists"));
  CHECK(read_file(target) == "old");
  CHECK(client.files.download(server.base_url() + "/x", target).get() == target);
  CHECK(read_file(target) == "new");
  CHECK_THROWS_WITH(client.files.download("ftp://x/y", dir.path()).get(),
                    Catch::Contains("http(s)"));
  inf::FileRef no_uri;
  CHECK_THROWS_AS(client.files.download(no_uri, dir.path()).get(), inf::InvalidArgumentError);
}

TEST_CASE(
    "an async download cancelled in the middle of its body fails with CancelledError and "
    "leaves no file",
    "[async][files][cancel]") {
  TempDir dir;
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::status(200).header("Content-Length", "100000").send("first bytes").stall();
  });
  auto client = async_client(server);
  inf::CancellationToken cancel;
  Signal receiving;
  inf::DownloadOptions options;
  options.cancel = cancel;
  options.on_progress = [&receiving](std::uint64_t, std::uint64_t) { receiving.set(); };
  auto download = client.files.download(server.base_url() + "/f.bin", dir.path(), options);
  receiving.wait();
  CHECK_FALSE(fs::is_empty(dir.path()));  // the temporary file, while the body arrives
  cancel.cancel();
  CHECK_THROWS_AS(download.get(), inf::CancelledError);
  CHECK(fs::is_empty(dir.path()));
  CHECK(server.request_count() == 1);
  CHECK(server.wait_for_closed_connections(1, 10s));
}

TEST_CASE(
    "shutting down the async client with an upload and a download in flight fails both "
    "with CancelledError, leaving no file",
    "[async][files][shutdown]") {
  TempDir dir;
  Router router;
  router.on("POST", "/files", Reply::status(200).stall());
  router.on("GET", "/f.bin",
            Reply::status(200).header("Content-Length", "100000").send("first bytes").stall());
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  Signal receiving;
  inf::DownloadOptions options;
  options.on_progress = [&receiving](std::uint64_t, std::uint64_t) { receiving.set(); };
  auto download = client.files.download(server.base_url() + "/f.bin", dir.path(), options);
  auto upload = client.files.upload_bytes("bytes");
  receiving.wait();
  REQUIRE(server.wait_for_requests(2, 10s));
  client.shutdown();
  REQUIRE(download.ready());
  REQUIRE(upload.ready());
  CHECK_THROWS_AS(download.get(), inf::CancelledError);
  CHECK_THROWS_AS(upload.get(), inf::CancelledError);
  CHECK(fs::is_empty(dir.path()));
  CHECK_THROWS_AS(client.files.upload_bytes("late").get(), inf::CancelledError);
}

TEST_CASE("async files.get and files.remove reach the API with typed errors", "[async][files]") {
  Router router;
  router.on("GET", "/files/f%201",
            Reply::json(200, {{"id", "f 1"}, {"uri", "https://x/f"}, {"size", 3}}));
  router.on("DELETE", "/files/f%201", Reply::status(204));
  router.on("GET", "/files/gone", Reply::json(404, {{"detail", "no file"}}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  const inf::FileRef file = client.files.get("f 1").get();
  CHECK(file.id == "f 1");
  CHECK(file.size == 3);
  client.files.remove("f 1").get();
  CHECK_THROWS_AS(client.files.get("gone").get(), inf::NotFoundError);
  CHECK_THROWS_AS(client.files.get("").get(), inf::InvalidArgumentError);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[1].method == "DELETE");
}

TEST_CASE(
    "an async run uploads the files of its input on the loop, then creates the task with "
    "their uris",
    "[async][files]") {
  TempDir dir;
  const auto photo = dir.write("photo.jpg", "JPEGDATA");
  ApiAndStorage servers([](const RecordedRequest& request) {
    if (request.path == "/apps/run") return Reply::json(200, {{"id", "t1"}, {"status", 1}});
    return Reply::status(404);
  });
  auto client = async_client(servers.api);
  const json params = {{"app", "a/b"},
                       {"input",
                        {{"photo", inf::file_path(photo)},
                         {"list", {"data:text/plain;base64,YWJj", "plain text"}},
                         {"bytes", inf::file_bytes("RAW", {.filename = "raw.bin"})}}}};
  const inf::Task created = client.tasks.run(params, {.wait = false}).get();
  CHECK(created.id == "t1");
  const auto storage = servers.storage.requests();
  REQUIRE(storage.size() == 3);
  std::vector<std::string> bodies;
  for (const auto& put : storage) bodies.push_back(put.body);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == std::vector<std::string>{"JPEGDATA", "RAW", "abc"});
  const auto api = servers.api.requests();
  REQUIRE(api.size() == 4);
  CHECK(api.back().path == "/apps/run");
  const std::string stored = servers.storage.base_url() + "/stored/1";
  CHECK(api.back().json()["input"] ==
        json{{"photo", stored}, {"list", {stored, "plain text"}}, {"bytes", stored}});
}

TEST_CASE("an async run whose input file cannot be uploaded fails without creating the task",
          "[async][files]") {
  ApiAndStorage servers([](const RecordedRequest&) { return Reply::json(200, {{"id", "t1"}}); });
  servers.storage.set_handler([](const RecordedRequest&) {
    return Reply::json(403, {{"detail", "expired"}});
  });
  auto client = async_client(servers.api);
  const json params = {{"app", "a/b"}, {"input", {{"a", "data:text/plain;base64,YWJj"}}}};
  CHECK_THROWS_AS(client.tasks.run(params).get(), inf::PermissionDeniedError);
  for (const auto& request : servers.api.requests()) CHECK(request.path != "/apps/run");
  const json missing = {{"app", "a/b"}, {"input", {{"a", inf::file_path("/no/such/file")}}}};
  CHECK_THROWS_WITH(client.tasks.run(missing).get(), Catch::Contains("input/a"));
}

TEST_CASE(
    "an async run cancelled while its input files upload fails with CancelledError and "
    "creates no task",
    "[async][files][cancel]") {
  ScriptedServer server([](const RecordedRequest&) { return Reply::status(200).stall(); });
  auto client = async_client(server);
  inf::CancellationToken cancel;
  const json params = {{"app", "a/b"}, {"input", {{"a", "data:text/plain;base64,YWJj"}}}};
  auto run = client.tasks.run(params, {.cancel = cancel});
  REQUIRE(server.wait_for_requests(1, 10s));
  cancel.cancel();
  CHECK_THROWS_AS(run.get(), inf::CancelledError);
  CHECK(server.requests().at(0).path == "/files");
  CHECK(server.request_count() == 1);
}

// --- sessions ---------------------------------------------------------------------------------

namespace {

const json kSession = {{"id", "sess_1"},
                       {"status", "active"},
                       {"app_id", "my/app"},
                       {"call_count", 2},
                       {"idle_timeout", 60}};

json session_error(const char* code, const char* message) {
  return {
      {"detail", message}, {"success", false}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

TEST_CASE("async session calls use the documented methods and paths", "[async][sessions]") {
  Router router;
  router.on("GET", "/sessions/sess_1", Reply::json(200, kSession));
  router.on("GET", "/sessions", Reply::json(200, {{"data", json::array({kSession})}}));
  router.on("POST", "/sessions/sess_1/keepalive", Reply::json(200, kSession));
  router.on("DELETE", "/sessions/sess_1", Reply::status(204));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  const inf::Session session = client.sessions.get("sess_1").get();
  CHECK(session.id == "sess_1");
  CHECK(session.call_count == 2);
  CHECK(client.sessions.list().get().size() == 1);
  CHECK(client.sessions.keepalive("sess_1").get().idle_timeout == 60);
  client.sessions.end("sess_1").get();
  const auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].target == "/sessions/sess_1");
  CHECK(requests[1].target == "/sessions");
  CHECK(requests[2].method == "POST");
  CHECK(requests[2].target == "/sessions/sess_1/keepalive");
  CHECK(requests[3].method == "DELETE");
  CHECK_THROWS_AS(client.sessions.get("").get(), inf::InvalidArgumentError);
}

TEST_CASE("async session errors are typed by status and code", "[async][sessions]") {
  Router router;
  router.on("GET", "/sessions/missing",
            Reply::json(404, session_error("SESSION_NOT_FOUND", "no such session")));
  router.on("POST", "/sessions/old/keepalive",
            Reply::json(410, session_error("SESSION_EXPIRED", "expired")));
  router.on("POST", "/sessions/done/keepalive",
            Reply::json(410, session_error("SESSION_ENDED", "ended")));
  router.on("GET", "/sessions", Reply::json(200, {{"success", true}, {"data", nullptr}}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  CHECK_THROWS_AS(client.sessions.get("missing").get(), inf::SessionNotFoundError);
  CHECK_THROWS_AS(client.sessions.keepalive("old").get(), inf::SessionExpiredError);
  CHECK_THROWS_AS(client.sessions.keepalive("done").get(), inf::SessionEndedError);
  CHECK(client.sessions.list().get().empty());
}

TEST_CASE("an async session handle runs calls in its session and ends it when dropped",
          "[async][sessions]") {
  Router router;
  router.on("POST", "/apps/run", [](const RecordedRequest& request) {
    const bool fresh = request.json()["session"] == "new";
    return Reply::json(200, {{"id", fresh ? "t1" : "t2"}, {"status", 1}});
  });
  router.on(
      "GET", "/tasks/t1/stream",
      ndjson_reply(
          {{{"id", "t1"}, {"status", 10}, {"session_id", "sess_1"}, {"output", {{"calls", 1}}}}}));
  router.on(
      "GET", "/tasks/t2/stream",
      ndjson_reply(
          {{{"id", "t2"}, {"status", 10}, {"session_id", "sess_1"}, {"output", {{"calls", 2}}}}}));
  router.on("GET", "/sessions/sess_1", Reply::json(200, kSession));
  router.on("DELETE", "/sessions/sess_1", Reply::status(204));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  {
    inf::SessionOptions options;
    options.input = {{"x", 1}};
    options.session_timeout = 120;
    inf::AsyncSessionHandle session = client.sessions.open("my/app", options).get();
    CHECK(session.id() == "sess_1");
    CHECK(session.first_result().output == json{{"calls", 1}});
    CHECK(session.call({{"x", 2}}).get().output == json{{"calls", 2}});
    CHECK(session.info().get().call_count == 2);
  }
  REQUIRE(server.wait_for_requests(6, 10s));  // the DELETE is sent without being waited for
  const auto requests = server.requests();
  CHECK(requests.at(0).body ==
        json{{"app", "my/app"}, {"input", {{"x", 1}}}, {"session", "new"}, {"session_timeout", 120}}
            .dump());
  CHECK(requests.at(2).json() ==
        json{{"app", "my/app"}, {"input", {{"x", 2}}}, {"session", "sess_1"}});
  CHECK(requests.back().method == "DELETE");
  CHECK(requests.back().path == "/sessions/sess_1");
}

TEST_CASE(
    "ending an async session handle twice sends one DELETE, and a moved handle ends "
    "nothing",
    "[async][sessions]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, {{"id", "t1"}, {"status", 1}}));
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({{{"id", "t1"}, {"status", 10}, {"session_id", "sess_1"}}}));
  router.on("DELETE", "/sessions/sess_1", Reply::status(204));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  {
    auto session = client.sessions.open("my/app").get();
    auto moved = std::move(session);
    moved.end().get();
    moved.end().get();
    CHECK(moved.ended());
    CHECK_THROWS_AS(moved.call({{"x", 1}}).get(), inf::InvalidArgumentError);
  }
  client.shutdown();  // anything still to send is sent or cancelled by now
  std::size_t deletes = 0;
  for (const auto& r : server.requests()) {
    if (r.method == "DELETE") ++deletes;
  }
  CHECK(deletes == 1);
}

TEST_CASE("opening an async session on a server that starts none is an error",
          "[async][sessions]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, {{"id", "t1"}, {"status", 1}}));
  router.on("GET", "/tasks/t1/stream", ndjson_reply({{{"id", "t1"}, {"status", 10}}}));
  ScriptedServer server(router.handler());
  CHECK_THROWS_WITH(async_client(server).sessions.open("my/app").get(),
                    Catch::Contains("no session"));
}
