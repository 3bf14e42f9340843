// files.upload / files.download and automatic uploads of task input, against a scripted server
// standing in for the API and its storage.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <catch2/catch.hpp>

#include "inferencesh/inferencesh.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using inf::testing::kTestApiKey;
using inf::testing::Reply;
using inf::testing::ScriptedServer;
using nlohmann::json;

namespace {

/// A temporary directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("inferencesh-files-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code error;
    fs::remove_all(path, error);
  }
  fs::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
    return path / name;
  }
};

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Answers POST /files with a slot whose upload URL points back at the same server, accepts
/// PUT /upload/<n>, and otherwise defers to `other`.
class FakeStorage {
 public:
  explicit FakeStorage(ScriptedServer::Handler other = {}) : other_(std::move(other)) {}

  Reply handle(const inf::testing::RecordedRequest& request, const std::string& base_url) {
    if (request.method == "POST" && request.path == "/files") {
      std::lock_guard<std::mutex> lock(mutex_);
      const int n = ++created_;
      const auto slot = request.json()["files"][0];
      return Reply::json(200,
                         json::array({{{"id", "file_" + std::to_string(n)},
                                       {"uri", base_url + "/stored/" + std::to_string(n)},
                                       {"upload_url", base_url + "/upload/" + std::to_string(n)},
                                       {"filename", slot.value("filename", "")},
                                       {"content_type", slot["content_type"]},
                                       {"size", slot["size"]}}}));
    }
    if (request.method == "PUT" && request.path.rfind("/upload/", 0) == 0) {
      return Reply::status(200);
    }
    if (other_) return other_(request);
    return Reply::json(404, {{"detail", "unexpected " + request.method + " " + request.path}});
  }

 private:
  ScriptedServer::Handler other_;
  std::mutex mutex_;
  int created_ = 0;
};

struct StorageServer {
  FakeStorage storage;
  ScriptedServer server;
  explicit StorageServer(ScriptedServer::Handler other = {})
      : storage(std::move(other)),
        server([this](const auto& request) { return storage.handle(request, server.base_url()); }) {
  }
  std::vector<inf::testing::RecordedRequest> puts() const {
    std::vector<inf::testing::RecordedRequest> result;
    for (auto& r : server.requests()) {
      if (r.method == "PUT") result.push_back(r);
    }
    return result;
  }
};

}  // namespace

TEST_CASE("uploading bytes creates the file, then PUTs exactly those bytes without the key",
          "[files]") {
  StorageServer api;
  auto client = inf::inference(inf::testing::test_options(api.server));
  const auto file =
      client.files.upload_bytes("PNGDATA", {.filename = "data.bin", .content_type = "image/png"});
  CHECK(file.id == "file_1");
  CHECK(file.uri == api.server.base_url() + "/stored/1");
  CHECK(file.filename == "data.bin");
  CHECK(file.size == 7);

  const auto requests = api.server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].path == "/files");
  CHECK(requests[0].header("authorization") == std::string("Bearer ") + kTestApiKey);
  CHECK(
      requests[0].json() ==
      json{
          {"files",
           {{{"uri", ""}, {"filename", "data.bin"}, {"content_type", "image/png"}, {"size", 7}}}}});
  CHECK(requests[1].method == "PUT");
  CHECK(requests[1].path == "/upload/1");
  CHECK(requests[1].body == "PNGDATA");
  CHECK(requests[1].header("content-type") == "image/png");
  CHECK_FALSE(requests[1].header("authorization").has_value());
}

TEST_CASE("uploading a path streams the file and names it after the path", "[files]") {
  TempDir dir;
  const auto path = dir.write("hello.txt", "hello world");
  StorageServer api;
  auto client = inf::inference(inf::testing::test_options(api.server));
  std::uint64_t last = 0;
  std::uint64_t total = 0;
  const auto file =
      client.files.upload(path, {.on_progress = [&](std::uint64_t done, std::uint64_t all) {
                            last = done;
                            total = all;
                          }});
  CHECK(file.filename == "hello.txt");
  CHECK(file.content_type == "text/plain");
  const auto puts = api.puts();
  REQUIRE(puts.size() == 1);
  CHECK(puts[0].body == "hello world");
  CHECK(puts[0].body.size() == 11);
  CHECK(last == 11);
  CHECK(total == 11);
}

TEST_CASE("a string is uploaded as a data URI, an existing path or base64", "[files]") {
  TempDir dir;
  const auto path = dir.write("clip.mp4", "not really a video");
  StorageServer api;
  auto client = inf::inference(inf::testing::test_options(api.server));
  CHECK(client.files.upload("data:image/png;base64,UE5HREFUQQ==").content_type == "image/png");
  CHECK(client.files.upload(path.string()).content_type == "video/mp4");
  CHECK(client.files.upload("UE5HREFUQQ==").content_type == "application/octet-stream");
  const auto puts = api.puts();
  REQUIRE(puts.size() == 3);
  CHECK(puts[0].body == "PNGDATA");
  CHECK(puts[1].body == "not really a video");
  CHECK(puts[2].body == "PNGDATA");
}

TEST_CASE("invalid upload sources are refused before any request", "[files]") {
  StorageServer api;
  auto client = inf::inference(inf::testing::test_options(api.server));
  CHECK_THROWS_WITH(client.files.upload("data:image/png;base64,@@@"),
                    Catch::Contains("not valid base64"));
  CHECK_THROWS_WITH(client.files.upload("/no/such/file.png"), Catch::Contains("no such file"));
  CHECK_THROWS_WITH(client.files.upload(fs::temp_directory_path()),
                    Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(client.files.upload("definitely not base64!"),
                    Catch::Contains("not an existing file, a data: URI or base64"));
  CHECK(api.server.request_count() == 0);
}

TEST_CASE("a missing upload URL and a failed PUT are clear errors", "[files]") {
  ScriptedServer no_url([](const auto&) {
    return Reply::json(200, json::array({{{"id", "f1"}, {"uri", "u"}}}));
  });
  CHECK_THROWS_WITH(inf::inference(inf::testing::test_options(no_url)).files.upload_bytes("x"),
                    Catch::Contains("no upload URL"));

  ScriptedServer forbidden;
  forbidden.set_handler([&](const auto& request) {
    if (request.method == "PUT") return Reply::json(403, {{"detail", "signature expired"}});
    return Reply::json(
        200,
        json::array({{{"id", "f1"}, {"uri", "u"}, {"upload_url", forbidden.base_url() + "/put"}}}));
  });
  try {
    inf::inference(inf::testing::test_options(forbidden)).files.upload_bytes("x");
    FAIL("expected PermissionDeniedError");
  } catch (const inf::PermissionDeniedError& e) {
    CHECK(e.status() == 403);
    CHECK_THAT(e.what(), Catch::Contains("signature expired"));
    CHECK(e.method() == "PUT");
  }
}

TEST_CASE("a PUT that fails transiently is retried with the whole body", "[files]") {
  std::atomic<int> puts{0};
  ScriptedServer server;
  server.set_handler([&](const auto& request) {
    if (request.method == "PUT") {
      return ++puts == 1 ? Reply::json(503, {{"detail", "busy"}}) : Reply::status(200);
    }
    return Reply::json(
        200,
        json::array({{{"id", "f1"}, {"uri", "u"}, {"upload_url", server.base_url() + "/put"}}}));
  });
  inf::inference(inf::testing::test_options(server)).files.upload_bytes("0123456789");
  CHECK(puts == 2);
  for (const auto& request : server.requests()) {
    if (request.method == "PUT") CHECK(request.body == "0123456789");
  }
}

TEST_CASE("files in task input are uploaded and replaced by their uri, anywhere", "[files]") {
  TempDir dir;
  const auto photo = dir.write("photo.jpg", "JPEGDATA");
  const auto mask = dir.write("mask.png", "MASKDATA");
  StorageServer api([](const auto& request) {
    if (request.path == "/apps/run") return Reply::json(200, {{"id", "t1"}, {"status", 1}});
    return Reply::status(404);
  });
  auto client = inf::inference(inf::testing::test_options(api.server));
  const std::string base = api.server.base_url();
  client.tasks.run(
      {{"app", "a/b"},
       {"input",
        {{"prompt", "a cat"},
         {"short", "aGVsbG8="},
         {"image", "data:image/png;base64,UE5HREFUQQ=="},
         {"nested",
          {{"list", {inf::file_path(photo), 42, inf::file_bytes("RAW", {.filename = "r.bin"})}}}},
         {"file_object",
          {{"path", mask.string()}, {"content_type", "image/png"}, {"filename", "m.png"}}},
         {"remote", {{"uri", "https://cdn.example/x.png"}, {"path", "/tmp/x.png"}}},
         {"not_a_file", {{"path", "/api/v1/items"}}}}},
       {"setup", {{"weights", "data:application/octet-stream;base64,AAAA"}}}},
      {.wait = false});

  const auto puts = api.puts();
  CHECK(puts.size() == 4);
  std::vector<std::string> bodies;
  for (const auto& put : puts) bodies.push_back(put.body);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == std::vector<std::string>{"JPEGDATA", "MASKDATA", "PNGDATA", "RAW"});

  json sent;
  for (const auto& r : api.server.requests()) {
    if (r.path == "/apps/run") sent = r.json();
  }
  const auto& input = sent["input"];
  CHECK(input["prompt"] == "a cat");
  CHECK(input["short"] == "aGVsbG8=");  // plain strings are never guessed
  CHECK(input["image"].get<std::string>().rfind(base + "/stored/", 0) == 0);
  CHECK(input["nested"]["list"][0].get<std::string>().rfind(base + "/stored/", 0) == 0);
  CHECK(input["nested"]["list"][1] == 42);
  CHECK(input["nested"]["list"][2].get<std::string>().rfind(base + "/stored/", 0) == 0);
  CHECK(input["file_object"].get<std::string>().rfind(base + "/stored/", 0) == 0);
  CHECK(input["remote"] == "https://cdn.example/x.png");
  CHECK(input["not_a_file"] == json{{"path", "/api/v1/items"}});
  // setup is sent as given.
  CHECK(sent["setup"]["weights"] == "data:application/octet-stream;base64,AAAA");
}

TEST_CASE("an invalid file in task input fails before any request, naming where it is", "[files]") {
  StorageServer api;
  auto client = inf::inference(inf::testing::test_options(api.server));
  CHECK_THROWS_WITH(
      client.tasks.run(
          {{"app", "a/b"},
           {"input", {{"ok", "data:text/plain,fine"}, {"bad", {"data:image/png;base64,%%"}}}}}),
      Catch::Contains("input/bad/0") && Catch::Contains("not valid base64"));
  CHECK_THROWS_WITH(
      client.tasks.run({{"app", "a/b"}, {"input", {{"image", inf::file_path("/no/such.png")}}}}),
      Catch::Contains("input/image") && Catch::Contains("no such file"));
  CHECK(api.server.request_count() == 0);
}

TEST_CASE("the Python SDK's guessing of file-like strings is opt-in", "[files]") {
  TempDir dir;
  const auto path = dir.write("notes.txt", "NOTES");
  StorageServer api([](const auto& request) {
    if (request.path == "/apps/run") return Reply::json(200, {{"id", "t1"}, {"status", 1}});
    return Reply::status(404);
  });
  auto options = inf::testing::test_options(api.server);
  options.upload_file_like_strings = true;
  auto client = inf::inference(options);
  client.tasks.run(
      {{"app", "a/b"},
       {"input", {{"doc", path.string()}, {"blob", "aGVsbG8gd29ybGQhISE="}, {"word", "hello"}}}},
      {.wait = false});
  std::vector<std::string> bodies;
  for (const auto& put : api.puts()) bodies.push_back(put.body);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == std::vector<std::string>{"NOTES", "hello world!!!"});
}

TEST_CASE("a download streams to disk under a safe name and reports progress", "[files]") {
  TempDir dir;
  const std::string content(300000, 'd');
  ScriptedServer server([&](const auto&) {
    return Reply::status(200)
        .header("Content-Disposition", "attachment; filename=\"../../escape.bin\"")
        .body(content);
  });
  auto client = inf::inference(inf::testing::test_options(server));
  std::uint64_t last = 0;
  const auto written = client.files.download(
      server.base_url() + "/f/1", dir.path,
      {.on_progress = [&](std::uint64_t done, std::uint64_t) { last = done; }});
  CHECK(written == dir.path / "escape.bin");
  CHECK(read(written) == content);
  CHECK(last == content.size());
  // Same origin as the API: the key is sent.
  CHECK(server.requests().at(0).header("authorization").has_value());
}

TEST_CASE("a download from another host never carries the API key", "[files]") {
  TempDir dir;
  ScriptedServer cdn([](const auto&) { return Reply::status(200).body("bytes"); });
  ScriptedServer api([](const auto&) { return Reply::status(404); });
  auto client = inf::inference(inf::testing::test_options(api));
  inf::FileRef file;
  file.uri = cdn.base_url() + "/u/x/cat.png?sig=abc";
  file.filename = "cat.png";
  const auto written = client.files.download(file, dir.path);
  CHECK(written == dir.path / "cat.png");
  CHECK(read(written) == "bytes");
  CHECK_FALSE(cdn.requests().at(0).header("authorization").has_value());
  CHECK(api.request_count() == 0);
}

TEST_CASE("a broken download leaves no partial file behind", "[files]") {
  TempDir dir;
  ScriptedServer server([](const auto&) {
    return Reply::status(200).header("Content-Length", "1000").send("only part").drop();
  });
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_AS(client.files.download(server.base_url() + "/f.bin", dir.path / "f.bin"),
                  inf::ConnectionError);
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("a download to an explicit path, with and without overwrite", "[files]") {
  TempDir dir;
  ScriptedServer server([](const auto&) { return Reply::status(200).body("new"); });
  auto client = inf::inference(inf::testing::test_options(server));
  const auto target = dir.write("existing.txt", "old");
  CHECK_THROWS_WITH(client.files.download(server.base_url() + "/x", target, {.overwrite = false}),
                    Catch::Contains("already exists"));
  CHECK(read(target) == "old");
  CHECK(client.files.download(server.base_url() + "/x", target) == target);
  CHECK(read(target) == "new");
  CHECK_THROWS_WITH(client.files.download(server.base_url() + "/x", dir.path / "no/dir/f"),
                    Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(client.files.download("ftp://x/y", dir.path), Catch::Contains("http(s)"));
}

TEST_CASE("a download answered with a retryable status is tried again, as API calls are",
          "[files]") {
  TempDir dir;
  int calls = 0;
  ScriptedServer server([&calls](const auto&) {
    return ++calls == 1 ? Reply::status(503) : Reply::status(200).body("second time lucky");
  });
  auto client = inf::inference(inf::testing::test_options(server));
  const auto written = client.files.download(server.base_url() + "/f.txt", dir.path / "f.txt");
  CHECK(read(written) == "second time lucky");
  CHECK(server.request_count() == 2);
}

TEST_CASE("a download follows redirects, and the API key stays with the API's host", "[files]") {
  TempDir dir;
  ScriptedServer cdn([](const auto&) { return Reply::status(200).body("cdn bytes"); });
  ScriptedServer api([&cdn](const auto& request) {
    if (request.path == "/files/1/content") return Reply::status(307).header("Location", "/f/1");
    return Reply::status(302).header("Location", cdn.base_url() + "/u/cat.png?sig=abc");
  });
  auto client = inf::inference(inf::testing::test_options(api));
  const auto written = client.files.download(api.base_url() + "/files/1/content", dir.path);
  CHECK(written == dir.path / "cat.png");  // named after where the bytes came from
  CHECK(read(written) == "cdn bytes");
  REQUIRE(api.request_count() == 2);
  CHECK(api.requests()[0].header("authorization") == "Bearer " + std::string(kTestApiKey));
  CHECK(api.requests()[1].header("authorization") == "Bearer " + std::string(kTestApiKey));
  REQUIRE(cdn.request_count() == 1);
  CHECK(cdn.requests()[0].target == "/u/cat.png?sig=abc");
  CHECK_FALSE(cdn.requests()[0].header("authorization").has_value());
}

TEST_CASE("a download is never redirected away from http(s) nor without end", "[files]") {
  TempDir dir;
  ScriptedServer server([](const auto& request) {
    if (request.path == "/to-file")
      return Reply::status(302).header("Location", "file:///etc/passwd");
    return Reply::status(302).header("Location", "/loop");
  });
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(client.files.download(server.base_url() + "/to-file", dir.path / "a"),
                    Catch::Contains("http(s)"));
  CHECK_THROWS_WITH(client.files.download(server.base_url() + "/loop", dir.path / "b"),
                    Catch::Contains("redirects"));
  CHECK(fs::is_empty(dir.path));
}
