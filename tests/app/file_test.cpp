// infsh::File: local paths with their metadata, URLs downloaded from a scripted server into
// the shared cache (and reused from it), data URIs, refused schemes, JSON in and out.

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include <infsh/infsh.hpp>

#include "app/file_cache.hpp"
#include "app/sha256.hpp"
#include "app_process.hpp"
#include "support/scripted_server.hpp"

using inferencesh::testing::RecordedRequest;
using inferencesh::testing::Reply;
using inferencesh::testing::ScriptedServer;
using infsh::File;
using infsh::testing::ScopedEnv;
using infsh::testing::TempDir;
using namespace std::chrono_literals;

namespace {

const std::string kPngBytes = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(24, 'x');

infsh::FileResolveOptions fast_options(const TempDir& cache) {
  infsh::FileResolveOptions options;
  options.cache_dir = cache.path();
  options.retry_delay = 0ms;
  options.timeout = 5s;
  return options;
}

// Files in `dir` and below, as paths relative to it.
std::vector<std::string> files_under(const std::filesystem::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path().lexically_relative(dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 test vectors") {
  using infsh::detail::sha256_hex;
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("the cache keys URLs by host, path and query, as the other SDKs do") {
  const std::filesystem::path root = "/cache";
  CHECK(infsh::detail::url_cache_path("https://example.com/images/cat.png?size=2#frag", root) ==
        root / "36005f2cebac" / "cat.png");
  CHECK(infsh::detail::url_cache_path("http://example.com:8080/a/b/", root) ==
        root / "6e1d410b94c4" / "download");
  CHECK(infsh::detail::data_uri_cache_dir("data:image/png;base64,iVBORw0KGgo=", root) ==
        root / "data_uri" / "e1e10747c2374f62");
}

TEST_CASE("the cache directory is FILE_CACHE_DIR, else ~/.cache/inferencesh/files") {
  TempDir dir;
  {
    ScopedEnv cache("FILE_CACHE_DIR", (dir.path() / "explicit").string());
    CHECK(File::cache_dir() == dir.path() / "explicit");
    CHECK(std::filesystem::is_directory(dir.path() / "explicit"));
  }
  ScopedEnv home("HOME", dir.path().string());
  ScopedEnv cache("FILE_CACHE_DIR", "");
  CHECK(File::cache_dir() == dir.path() / ".cache" / "inferencesh" / "files");
}

TEST_CASE("a File from a path is absolute and carries its content type, size and file name") {
  TempDir dir;
  const auto path = dir.write("photo.PNG", kPngBytes);
  const File file = File::from_path(path);
  CHECK(file.path == path.string());
  CHECK(file.exists());
  CHECK(file.content_type == "image/png");
  CHECK(file.size == std::optional<std::uint64_t>(kPngBytes.size()));
  CHECK(file.filename == "photo.PNG");

  const File missing = File::from_path(dir.path() / "later.json");
  CHECK_FALSE(missing.exists());
  CHECK(missing.content_type == "application/json");
  CHECK_FALSE(missing.size);
  CHECK(missing.filename == "later.json");
}

TEST_CASE("a file without a known extension gets its content type from its first bytes") {
  TempDir dir;
  CHECK(File::from_path(dir.write("blob", kPngBytes)).content_type == "image/png");
  CHECK(File::from_path(dir.write("doc", "%PDF-1.7\n")).content_type == "application/pdf");
  CHECK(File::from_path(dir.write("sound", std::string("RIFF\0\0\0\0WAVEfmt ", 16))).content_type ==
        "audio/x-wav");
  CHECK(File::from_path(dir.write("text", "just words")).content_type.empty());
}

TEST_CASE("refresh_metadata re-reads a file that changed") {
  TempDir dir;
  const auto path = dir.write("out.txt", "short");
  File file = File::from_path(path);
  CHECK(file.size == std::optional<std::uint64_t>(5));
  dir.write("out.txt", "a longer text");
  file.content_type = "application/x-stale";
  file.refresh_metadata();
  CHECK(file.size == std::optional<std::uint64_t>(13));
  CHECK(file.content_type == "text/plain");
}

TEST_CASE("a URL is downloaded into the cache once and reused after") {
  TempDir cache;
  ScriptedServer server([](const RecordedRequest& request) {
    if (request.path == "/images/cat.png") {
      return Reply::status(200).header("Content-Type", "image/png").body(kPngBytes);
    }
    return Reply::status(404);
  });
  const std::string url = server.base_url() + "/images/cat.png?v=1";
  const File first = File::from_uri(url, fast_options(cache));
  CHECK(first.uri == url);
  CHECK(first.path == infsh::detail::url_cache_path(url, cache.path()).string());
  CHECK(infsh::testing::read_file(first.path) == kPngBytes);
  CHECK(first.content_type == "image/png");
  CHECK(first.filename == "cat.png");
  CHECK(first.size == std::optional<std::uint64_t>(kPngBytes.size()));
  REQUIRE(server.request_count() == 1);
  CHECK(server.requests()[0].header("User-Agent")->rfind("inferencesh-cpp-infsh/", 0) == 0);

  const File again = File::from_uri(url, fast_options(cache));
  CHECK(again.path == first.path);
  CHECK(server.request_count() == 1);
}

TEST_CASE("a URL answered with a client error fails at once, leaving nothing behind") {
  TempDir cache;
  ScriptedServer server([](const RecordedRequest&) { return Reply::status(404); });
  CHECK_THROWS_MATCHES(
      File::from_uri(server.base_url() + "/gone.png?sig=secret", fast_options(cache)),
      infsh::FileError, Catch::Matchers::Predicate<infsh::FileError>([](const infsh::FileError& e) {
        const std::string message = e.what();
        return message.find("HTTP status 404") != std::string::npos &&
               message.find("/gone.png") != std::string::npos &&
               message.find("secret") == std::string::npos;
      }));
  CHECK(server.request_count() == 1);
  CHECK(files_under(cache.path()).empty());
}

TEST_CASE("a URL answered with a server error is tried a second time") {
  TempDir cache;
  int calls = 0;
  ScriptedServer server([&calls](const RecordedRequest&) {
    return ++calls == 1 ? Reply::status(503) : Reply::status(200).body("second time lucky");
  });
  const File file = File::from_uri(server.base_url() + "/flaky.txt", fast_options(cache));
  CHECK(infsh::testing::read_file(file.path) == "second time lucky");
  CHECK(server.request_count() == 2);
}

TEST_CASE("a URL that keeps failing gives up after the attempts allowed") {
  TempDir cache;
  ScriptedServer server([](const RecordedRequest&) { return Reply::status(503); });
  CHECK_THROWS_WITH(File::from_uri(server.base_url() + "/down.txt", fast_options(cache)),
                    Catch::Contains("failed after 2 attempts: HTTP status 503"));
  CHECK(server.request_count() == 2);
  CHECK(files_under(cache.path()).empty());
}

TEST_CASE("a download larger than the limit is refused, announced or not") {
  TempDir cache;
  auto options = fast_options(cache);
  options.max_bytes = 1000;
  ScriptedServer server([](const RecordedRequest& request) {
    if (request.path == "/announced") return Reply::status(200).body(std::string(2000, 'a'));
    return Reply::status(200).chunked().send(std::string(600, 'b')).send(std::string(600, 'c'));
  });
  CHECK_THROWS_WITH(File::from_uri(server.base_url() + "/announced", options),
                    Catch::Contains("larger than the limit of 1000 bytes"));
  CHECK_THROWS_WITH(File::from_uri(server.base_url() + "/streamed", options),
                    Catch::Contains("larger than the limit of 1000 bytes"));
  CHECK(files_under(cache.path()).empty());
}

TEST_CASE("a download that stalls fails after its timeout") {
  TempDir cache;
  auto options = fast_options(cache);
  options.timeout = 300ms;
  options.attempts = 1;
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::status(200).header("Content-Length", "100").send("partial").stall();
  });
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(File::from_uri(server.base_url() + "/stall", options), infsh::FileError);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(files_under(cache.path()).empty());
}

TEST_CASE("redirects are followed to the file") {
  TempDir cache;
  ScriptedServer server([](const RecordedRequest& request) {
    if (request.path == "/old") return Reply::status(302).header("Location", "/new.txt");
    return Reply::status(200).body("moved here");
  });
  const File file = File::from_uri(server.base_url() + "/old", fast_options(cache));
  CHECK(infsh::testing::read_file(file.path) == "moved here");
  CHECK(file.filename == "old");  // the cache is keyed by the URL asked for
}

TEST_CASE("a File download retries only the statuses the client retries") {
  TempDir cache;
  // Server errors the client's rule does not retry: repeating the request cannot help.
  for (const int status : {501, 505}) {
    ScriptedServer server([status](const RecordedRequest&) { return Reply::status(status); });
    const std::string url = server.base_url() + "/unsupported.txt";
    CHECK_THROWS_WITH(File::from_uri(url, fast_options(cache)),
                      Catch::Contains("HTTP status " + std::to_string(status)));
    CHECK(server.request_count() == 1);
  }
  CHECK(files_under(cache.path()).empty());
}

TEST_CASE("a File download does not wait for a Retry-After past the client's limit") {
  TempDir cache;
  ScriptedServer server(
      [](const RecordedRequest&) { return Reply::status(503).header("Retry-After", "3600"); });
  CHECK_THROWS_WITH(File::from_uri(server.base_url() + "/busy.txt", fast_options(cache)),
                    Catch::Contains("HTTP status 503"));
  CHECK(server.request_count() == 1);
}

TEST_CASE(
    "a File download never sends an API key, even to the API's own host or after a redirect") {
  TempDir cache;
  ScriptedServer cdn(
      [](const RecordedRequest&) { return Reply::status(200).body("from the cdn"); });
  ScriptedServer api([&cdn](const RecordedRequest& request) {
    if (request.path == "/direct.txt") return Reply::status(200).body("direct");
    return Reply::status(302).header("Location", cdn.base_url() + "/moved.txt");
  });
  // What a client in the same process would pick up: the app library must not.
  ScopedEnv key("INFERENCE_API_KEY", "sk-app-process-key");
  ScopedEnv base("INFERENCE_API_BASE_URL", api.base_url());
  CHECK(infsh::testing::read_file(
            File::from_uri(api.base_url() + "/direct.txt", fast_options(cache)).path) == "direct");
  CHECK(infsh::testing::read_file(
            File::from_uri(api.base_url() + "/redirected.txt", fast_options(cache)).path) ==
        "from the cdn");
  REQUIRE(api.request_count() == 2);
  REQUIRE(cdn.request_count() == 1);
  for (const auto& request : api.requests()) CHECK_FALSE(request.header("Authorization"));
  CHECK_FALSE(cdn.requests()[0].header("Authorization"));
}

TEST_CASE("a File download in progress is a temporary file beside its place, gone when it fails") {
  TempDir cache;
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::status(200).header("Content-Length", "100").send("partial").stall();
  });
  auto options = fast_options(cache);
  options.attempts = 1;
  options.timeout = 120s;  // the test ends the download by stopping the server
  std::thread download([&] {
    CHECK_THROWS_AS(File::from_uri(server.base_url() + "/images/cat.png", options),
                    infsh::FileError);
  });
  // The one naming rule of temporary files: "<name>.<12 random characters>.tmp".
  const std::regex temporary_name(R"(cat\.png\.[0-9a-z]{12}\.tmp)");
  std::vector<std::string> during;
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (during.empty() && std::chrono::steady_clock::now() < give_up) {
    during = files_under(cache.path());
    if (during.empty()) std::this_thread::sleep_for(10ms);
  }
  server.stop();
  download.join();
  REQUIRE(during.size() == 1);
  const auto name = std::filesystem::path(during[0]);
  CHECK(name.parent_path() ==
        infsh::detail::url_cache_path(server.base_url() + "/images/cat.png", cache.path())
            .parent_path()
            .lexically_relative(cache.path()));
  CHECK(std::regex_match(name.filename().string(), temporary_name));
  CHECK(files_under(cache.path()).empty());
}

TEST_CASE("a base64 data URI is decoded into the cache and reused") {
  TempDir cache;
  const std::string uri = "data:image/png;base64,iVBORw0KGgo=";
  const File file = File::from_uri(uri, fast_options(cache));
  CHECK(file.path == (infsh::detail::data_uri_cache_dir(uri, cache.path()) / "file.png").string());
  CHECK(infsh::testing::read_file(file.path) == "\x89PNG\r\n\x1a\n");
  CHECK(file.content_type == "image/png");
  CHECK(file.uri == uri);

  // Reused as it is: a marker written into the cached copy is still there.
  cache.write(std::filesystem::path(file.path).lexically_relative(cache.path()).string(), "marker");
  CHECK(infsh::testing::read_file(File::from_uri(uri, fast_options(cache)).path) == "marker");
}

TEST_CASE("data URIs accept URL-safe base64 without padding and percent-encoded text") {
  TempDir cache;
  const File safe = File::from_uri("data:application/octet-stream;base64,-_8", fast_options(cache));
  CHECK(infsh::testing::read_file(safe.path) == "\xfb\xff");
  CHECK(std::filesystem::path(safe.path).filename() == "file.bin");
  const File text = File::from_uri("data:,hello%20world", fast_options(cache));
  CHECK(infsh::testing::read_file(text.path) == "hello world");
  CHECK(text.content_type == "text/plain");
  CHECK(std::filesystem::path(text.path).filename() == "file.txt");
  CHECK_THROWS_WITH(File::from_uri("data:image/png;base64,***", fast_options(cache)),
                    Catch::Contains("not valid base64"));
  CHECK_THROWS_WITH(File::from_uri("data:image/png;base64", fast_options(cache)),
                    Catch::Contains("no ','"));
}

TEST_CASE("schemes other than http, https, data and file are errors, not paths") {
  TempDir cache;
  CHECK_THROWS_WITH(File::from_uri("ftp://example.com/a.png", fast_options(cache)),
                    Catch::Contains("unsupported URI scheme 'ftp'"));
  CHECK_THROWS_WITH(File::from_uri("inf://files/abc", fast_options(cache)),
                    Catch::Contains("unsupported URI scheme 'inf'"));
  CHECK_THROWS_WITH(File::from_uri("", fast_options(cache)), Catch::Contains("empty"));
}

TEST_CASE("file URLs and plain paths are local paths") {
  TempDir dir;
  const auto path = dir.write("a b.txt", "x");
  const std::string encoded = "file://" + (dir.path() / "a%20b.txt").string();
  CHECK(File::from_uri(encoded).path == path.string());
  CHECK(File::from_uri("file://localhost" + path.string()).path == path.string());
  CHECK_THROWS_WITH(File::from_uri("file://elsewhere/x"), Catch::Contains("another host"));
  const File relative = File::from_uri("some/relative.txt");
  CHECK(relative.path == (std::filesystem::current_path() / "some" / "relative.txt").string());
  CHECK(relative.uri == "some/relative.txt");
}

TEST_CASE("resolve keeps metadata that was given and fills in the rest") {
  TempDir cache;
  File file{.uri = "data:text/plain,abc", .content_type = "text/csv"};
  file.resolve(fast_options(cache));
  CHECK(file.content_type == "text/csv");
  CHECK(file.size == std::optional<std::uint64_t>(3));
  CHECK(file.filename == "file.txt");
  File nothing;
  CHECK_THROWS_AS(nothing.resolve(), infsh::FileError);
}

TEST_CASE("a File's JSON has only the keys that are set, in the platform's order") {
  const File file{.uri = "https://x/a.png",
                  .path = "/tmp/a.png",
                  .content_type = "image/png",
                  .size = 10,
                  .filename = "a.png"};
  CHECK(
      file.to_json().dump() ==
      R"({"uri":"https://x/a.png","path":"/tmp/a.png","content_type":"image/png","size":10,"filename":"a.png"})");
  CHECK(File{.path = "/tmp/b"}.to_json().dump() == R"({"path":"/tmp/b"})");
  CHECK(File::from_json(nlohmann::json(file.to_json())) == file);
  CHECK(File::from_json("") == File{});
  CHECK(File::from_json(nullptr).empty());
}

TEST_CASE("content types and extensions map both ways") {
  CHECK(infsh::guess_content_type("a.JPEG") == "image/jpeg");
  CHECK(infsh::guess_content_type("clip.mp4") == "video/mp4");
  CHECK(infsh::guess_content_type("dir.d/noext").empty());
  CHECK(infsh::guess_extension("image/jpeg") == ".jpg");
  CHECK(infsh::guess_extension("audio/wav") == ".wav");
  CHECK(infsh::guess_extension("text/plain; charset=utf-8") == ".txt");
  CHECK(infsh::guess_extension("application/x-unknown").empty());
}
