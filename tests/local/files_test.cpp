// Files through the local runtime, end to end: the C++ client's uploads and downloads, the
// request bodies of the other official clients, upload URLs and file uris over raw sockets,
// broken and dishonest uploads, attempts to leave the file store, and files in task input and
// output.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

// "http://127.0.0.1:1234/files/x/content?token=y" → "/files/x/content?token=y".
std::string path_of(const std::string& url) {
  const auto scheme = url.find("://");
  return url.substr(url.find('/', scheme + 3));
}

// POST /files with `body` (compat envelope); the first FileDTO created.
json create_file(std::uint16_t port, const json& body,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  const auto response = http_request(port, "POST", "/files", body.dump(), headers);
  REQUIRE(response.status == 200);
  const json payload = response.json();
  REQUIRE(payload.at("data").is_array());
  return payload.at("data").at(0);
}

RawResponse put_bytes(std::uint16_t port, const std::string& url, const std::string& bytes,
                      const std::string& content_type = "application/octet-stream") {
  return http_request(port, "PUT", path_of(url), bytes, {{"Content-Type", content_type}});
}

// Sends a chunked PUT of `bytes` (in pieces of 3) and reads the answer.
RawResponse put_chunked(std::uint16_t port, const std::string& url, const std::string& bytes) {
  RawConnection connection(port);
  std::string request =
      "PUT " + path_of(url) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const auto piece = bytes.substr(i, 3);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    request += std::string(size) + "\r\n" + piece + "\r\n";
  }
  request += "0\r\n\r\n";
  connection.send(request);
  return connection.read_response();
}

bool no_part_files(const fs::path& data_dir) { return fs::is_empty(data_dir / "uploads"); }

}  // namespace

TEST_CASE("uploads from a path, bytes and a data URI come back byte for byte") {
  LocalRuntime local;
  auto client = local.client();
  TempDir dir;
  const auto notes = dir.write("notes.txt", "hello from the C++ SDK\n");

  const inf::FileRef from_path = client.files.upload(notes);
  CHECK(from_path.filename == "notes.txt");
  CHECK(from_path.content_type == "text/plain");
  CHECK(from_path.size == 23);
  CHECK(from_path.id.rfind("file_", 0) == 0);
  CHECK(from_path.uri.rfind(local.url() + "/files/" + from_path.id + "/content?token=", 0) == 0);

  const inf::FileRef from_bytes =
      client.files.upload_bytes(std::string("\0\1\2binary\xff", 10), {.filename = "data.bin"});
  const inf::FileRef from_data_uri = client.files.upload("data:image/png;base64,iVBORw0KGgo=");
  CHECK(from_data_uri.content_type == "image/png");

  const auto a = client.files.download(from_path, dir.path() / "a.txt");
  CHECK(read_file(a) == "hello from the C++ SDK\n");
  const auto b = client.files.download(from_bytes, dir.path() / "b.bin");
  CHECK(read_file(b) == std::string("\0\1\2binary\xff", 10));
  const auto c = client.files.download(from_data_uri.uri, dir.path() / "c.png");
  CHECK(read_file(c) == "\x89PNG\r\n\x1a\n");

  // Into a directory: the name comes from the server's Content-Disposition.
  fs::create_directories(dir.path() / "into");
  const auto d = client.files.download(from_bytes.uri, dir.path() / "into");
  CHECK(d.filename() == "data.bin");

  const inf::FileRef fetched = client.files.get(from_path.id);
  CHECK(fetched.uri == from_path.uri);
  CHECK(fetched.raw.at("uploaded") == true);
  CHECK(fetched.raw.at("size") == 23);
}

TEST_CASE("a 100 MiB file makes the round trip byte for byte") {
  LocalRuntime local;
  auto client = local.client();
  TempDir dir;
  const auto original = dir.path() / "big.bin";
  constexpr std::uint64_t kSize = 100ULL << 20;
  write_random_file(original, kSize, 7);

  std::uint64_t progress = 0;
  const inf::FileRef file = client.files.upload(
      original, {.on_progress = [&](std::uint64_t done, std::uint64_t) { progress = done; }});
  CHECK(progress == kSize);
  CHECK(file.size == kSize);
  CHECK(file.content_type == "application/octet-stream");

  const auto copy = client.files.download(file, dir.path() / "copy.bin");
  CHECK(fs::file_size(copy) == kSize);
  CHECK(same_bytes(original, copy));
}

TEST_CASE("a file uri serves its bytes with type and length to any HTTP client, without the key") {
  auto options = LocalRuntime::quiet();
  options.api_key = "files-key";
  LocalRuntime local(options);
  auto client = local.client("files-key");
  const auto file = client.files.upload_bytes("{\"a\": 1}", {.content_type = "application/json"});

  const auto served = http_request(local.port(), "GET", path_of(file.uri));
  CHECK(served.status == 200);
  CHECK(served.header("Content-Type") == "application/json");
  CHECK(served.header("Content-Length") == "8");
  CHECK(served.body == "{\"a\": 1}");

  const std::string bare = "/files/" + file.id + "/content";
  CHECK(http_request(local.port(), "GET", bare).status == 403);
  CHECK(
      http_request(local.port(), "GET", bare + "?token=00112233445566778899aabbccddeeff").status ==
      403);
  // The API key works in place of the token (the client sends it to its own API host).
  CHECK(http_request(local.port(), "GET", bare, {}, {{"Authorization", "Bearer files-key"}}).body ==
        "{\"a\": 1}");
  // The rest of the file API needs the key.
  CHECK(http_request(local.port(), "GET", "/files/" + file.id).status == 401);
  CHECK(http_request(local.port(), "POST", "/files", R"({"files":[{"uri":""}]})").status == 401);
}

TEST_CASE("POST /files takes the bodies of the Python, JavaScript and C++ clients") {
  LocalRuntime local;
  const auto port = local.port();
  // Python: all six keys, unset ones null, plus `public`; v1-style client, compat envelope.
  const json python = create_file(port, {{"files",
                                          {{{"uri", ""},
                                            {"filename", nullptr},
                                            {"content_type", "text/plain"},
                                            {"path", nullptr},
                                            {"size", 5},
                                            {"public", nullptr}}}}});
  // JavaScript with a data URI: undefined keys left out, no size.
  const json js = create_file(port, {{"files", {{{"uri", ""}, {"content_type", "image/png"}}}}},
                              {{"X-Client-Source", "inference-sdk-js/0.5.13"}});
  // C++: uri, filename, content_type, size, path, public.
  const json cpp = create_file(port, {{"files",
                                       {{{"uri", ""},
                                         {"filename", "scan.pdf"},
                                         {"content_type", "application/pdf"},
                                         {"size", 3},
                                         {"path", "docs/scan.pdf"},
                                         {"public", true}}}}});

  for (const json& dto : {python, js, cpp}) {
    INFO(dto.dump());
    for (const char* key : {"id", "uri", "upload_url", "filename", "content_type", "size", "path",
                            "created_at", "updated_at", "category", "visibility", "rating"}) {
      CHECK(dto.contains(key));
    }
    CHECK(dto.at("upload_url").get<std::string>().rfind(local.url() + "/_upload/", 0) == 0);
    CHECK(dto.at("uploaded") == false);
  }
  CHECK(python.at("size") == 5);
  CHECK(python.at("visibility") == "private");
  CHECK(js.at("size") == 0);
  CHECK(cpp.at("path") == "docs/scan.pdf");
  CHECK(cpp.at("visibility") == "public");
  CHECK(cpp.at("filename") == "scan.pdf");

  // The upload URLs take the bytes without any key; the JS SDK PUTs text/plain for data URIs
  // it declared as something else, and the declared type is kept.
  CHECK(put_bytes(port, python.at("upload_url"), "hello", "text/plain").status == 200);
  CHECK(put_bytes(port, js.at("upload_url"), "\x89PNG", "text/plain").status == 200);
  const auto answered = put_bytes(port, cpp.at("upload_url"), "PDF", "application/pdf");
  CHECK(answered.status == 200);
  CHECK(answered.json().at("data").at("uploaded") == true);
  const auto js_file = http_request(port, "GET", "/files/" + js.at("id").get<std::string>());
  CHECK(js_file.json().at("data").at("content_type") == "image/png");
  CHECK(js_file.json().at("data").at("size") == 4);

  // A client that sends X-API-Version: 2 gets the bare array.
  const auto v2 =
      http_request(port, "POST", "/files", R"({"files":[{"uri":""}]})", {{"X-API-Version", "2"}});
  CHECK(v2.json().is_array());
  CHECK(v2.json().at(0).at("content_type") == "application/octet-stream");
}

TEST_CASE("POST /files refuses malformed requests naming the field") {
  LocalRuntime local;
  struct Case {
    std::string body;
    int status;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"[]", 400, "JSON object"},
      {"{}", 422, "'files'"},
      {R"({"files":{}})", 422, "'files'"},
      {R"({"files":[]})", 422, "'files'"},
      {R"({"files":[7]})", 422, "files[0]"},
      {R"({"files":[{"size":-1}]})", 422, "files[0].size"},
      {R"({"files":[{"size":1.5}]})", 422, "files[0].size"},
      {R"({"files":[{"filename":3}]})", 422, "files[0].filename"},
      {R"({"files":[{"content_type":"text/plain\r\nX-Evil: 1"}]})", 422, "files[0].content_type"},
      {R"({"files":[{"public":"yes"}]})", 422, "files[0].public"},
      {R"({"files":[{}],"category":"secrets"})", 422, "'category'"},
      {R"({"files":[{"size":99999999999999999}]})", 413, "files[0].size"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto response = http_request(local.port(), "POST", "/files", c.body);
    CHECK(response.status == c.status);
    CHECK(response.json().at("detail").get<std::string>().find(c.mentions) != std::string::npos);
  }
}

TEST_CASE("an upload that does not have its declared size is refused and the file stays empty") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  LocalRuntime local(options);
  const auto port = local.port();
  const json file = create_file(port, {{"files", {{{"uri", ""}, {"size", 10}}}}});
  const std::string url = file.at("upload_url");
  const std::string id = file.at("id");

  // Content-Length says so before the body: refused at once, naming both sizes.
  const auto short_body = put_bytes(port, url, "12345");
  CHECK(short_body.status == 400);
  const std::string detail = short_body.json().at("detail");
  CHECK(detail.find("10 bytes declared") != std::string::npos);
  CHECK(detail.find("Content-Length 5") != std::string::npos);

  // Chunked: counted as it arrives.
  const auto too_long = put_chunked(port, url, "0123456789AB");
  CHECK(too_long.status == 400);
  CHECK(too_long.json().at("detail").get<std::string>().find("10 bytes declared") !=
        std::string::npos);
  const auto too_short = put_chunked(port, url, "0123");
  CHECK(too_short.status == 400);
  CHECK(too_short.json().at("detail").get<std::string>().find("4 bytes received") !=
        std::string::npos);

  const auto stored = http_request(port, "GET", "/files/" + id).json().at("data");
  CHECK(stored.at("uploaded") == false);
  CHECK(http_request(port, "GET", path_of(stored.at("uri"))).status == 409);
  CHECK(wait_until([&] { return no_part_files(data.path()); }));

  // The right size, chunked, completes it.
  CHECK(put_chunked(port, url, "0123456789").status == 200);
  CHECK(http_request(port, "GET", path_of(stored.at("uri"))).body == "0123456789");
}

TEST_CASE("an upload that breaks off leaves no file behind, and the upload URL still works") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  LocalRuntime local(options);
  const auto port = local.port();
  constexpr std::size_t kSize = 4 << 20;
  const json file = create_file(port, {{"files", {{{"uri", ""}, {"size", kSize}}}}});
  const std::string url = file.at("upload_url");

  {
    RawConnection connection(port);
    connection.send("PUT " + path_of(url) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                    std::to_string(kSize) + "\r\n\r\n");
    connection.send(std::string(kSize / 2, 'x'));  // half the body, then the client vanishes
    // The runtime has taken the bytes in when its part file appears.
    CHECK(wait_until([&] { return !no_part_files(data.path()); }));
    connection.reset();
  }
  CHECK(wait_until([&] { return no_part_files(data.path()); }));
  const auto stored = http_request(port, "GET", "/files/" + file.at("id").get<std::string>());
  CHECK(stored.json().at("data").at("uploaded") == false);
  CHECK(fs::is_empty(data.path() / "files"));

  const auto retried = put_bytes(port, url, std::string(kSize, 'y'));
  CHECK(retried.status == 200);
  CHECK(fs::file_size(data.path() / "files" / file.at("id").get<std::string>()) == kSize);
}

TEST_CASE("an upload URL works once: a second PUT gets 409 and the stored bytes stay") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  LocalRuntime local(options);
  const auto port = local.port();
  const json file = create_file(port, {{"files", {{{"uri", ""}, {"filename", "a.txt"}}}}});
  const std::string url = file.at("upload_url");
  const std::string id = file.at("id");
  REQUIRE(put_bytes(port, url, "original", "text/plain").status == 200);

  for (const auto& bytes : {std::string("replaced"), std::string("a longer replacement")}) {
    const auto again = put_bytes(port, url, bytes, "image/png");
    CHECK(again.status == 409);
    CHECK_THAT(again.json().at("detail").get<std::string>(),
               Catch::Contains(id) && Catch::Contains("upload URL works once"));
    CHECK(put_chunked(port, url, bytes).status == 409);
  }
  const json stored = http_request(port, "GET", "/files/" + id).json().at("data");
  CHECK(stored.at("size") == 8);
  CHECK(stored.at("content_type") == "text/plain");
  CHECK(http_request(port, "GET", path_of(stored.at("uri"))).body == "original");
  CHECK(wait_until([&] { return no_part_files(data.path()); }));
}

TEST_CASE("of two uploads racing on one URL the first to complete wins and the other gets 409") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  LocalRuntime local(options);
  const auto port = local.port();
  const json file = create_file(port, {{"files", {{{"uri", ""}, {"size", 6}}}}});
  const std::string head = "PUT " + path_of(file.at("upload_url")) +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 6\r\n\r\n";
  // Both have passed the checks on their head and sent half their body before either ends.
  RawConnection first(port);
  RawConnection second(port);
  REQUIRE(first.send(head + "AAA"));
  REQUIRE(second.send(head + "BBB"));
  CHECK(wait_until([&] {
    std::size_t parts = 0;
    for (const auto& entry : fs::directory_iterator(data.path() / "uploads")) {
      (void)entry;
      ++parts;
    }
    return parts == 2;
  }));
  REQUIRE(second.send("BBB"));
  CHECK(second.read_response().status == 200);
  REQUIRE(first.send("AAA"));
  const auto late = first.read_response();
  CHECK(late.status == 409);
  CHECK(http_request(port, "GET", path_of(file.at("uri"))).body == "BBBBBB");
  CHECK(wait_until([&] { return no_part_files(data.path()); }));
}

TEST_CASE("ids and paths that try to leave the file store reach nothing") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  LocalRuntime local(options);
  const auto port = local.port();
  // A client's filename and path are metadata: no directory part survives in the name, and the
  // path is never used on disk.
  const json file = create_file(
      port,
      {{"files",
        {{{"uri", ""}, {"filename", "../../../tmp/evil.txt"}, {"path", "../../etc/passwd"}}}}});
  CHECK(file.at("filename") == "evil.txt");
  CHECK(file.at("path") == "../../etc/passwd");
  const std::string token =
      file.at("upload_url")
          .get<std::string>()
          .substr(file.at("upload_url").get<std::string>().find("?token=") + 7);
  CHECK(put_bytes(port, file.at("upload_url"), "mine").status == 200);

  const std::vector<std::string> attempts = {
      "/_upload/..%2F..%2Fetc%2Fpasswd?token=" + token,
      "/_upload/..%2Finfsh-local.db?token=" + token,
      "/_upload/%2e%2e?token=" + token,
      "/_upload/../files/x?token=" + token,
      "/_upload/file_aaaaaaaaaaaaaaaaaaaa?token=" + token,
  };
  for (const auto& target : attempts) {
    INFO(target);
    const auto response = http_request(port, "PUT", target, "overwrite");
    CHECK(response.status == 404);
  }
  for (const std::string target :
       {"/files/..%2F..%2F..%2Fetc%2Fpasswd/content?token=x", "/files/..%2Finfsh-local.db/content",
        "/files/%2e%2e/content", "/files/../../etc/passwd", "/files/..%2Fuploads",
        "/files/file_aaaaaaaaaaaaaaaaaaaa/content"}) {
    INFO(target);
    const auto response = http_request(port, "GET", target);
    CHECK(response.status == 404);
    CHECK(response.body.find("root:") == std::string::npos);
  }
  CHECK(http_request(port, "DELETE", "/files/..%2Finfsh-local.db").status == 404);
  CHECK(fs::exists(data.path() / "infsh-local.db"));
  // Only the generated id names a file in the store.
  std::vector<std::string> stored;
  for (const auto& entry : fs::directory_iterator(data.path() / "files")) {
    stored.push_back(entry.path().filename().string());
  }
  CHECK(stored == std::vector<std::string>{file.at("id").get<std::string>()});
  CHECK(read_file(data.path() / "files" / file.at("id").get<std::string>()) == "mine");
}

TEST_CASE("files are fetched, listed page by page and deleted with their bytes") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  LocalRuntime local(options);
  auto client = local.client();
  std::vector<inf::FileRef> files;
  for (int i = 0; i < 5; ++i) {
    files.push_back(client.files.upload_bytes("file " + std::to_string(i),
                                              {.filename = "f" + std::to_string(i) + ".txt"}));
  }
  // Newest first, two at a time.
  std::vector<std::string> listed;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    json body = {{"limit", 2}};
    if (!cursor.empty()) body["cursor"] = cursor;
    const auto response = http_request(local.port(), "POST", "/files/list", body.dump());
    REQUIRE(response.status == 200);
    const json data_page = response.json().at("data");
    CHECK(data_page.at("total_items") == 5);
    for (const auto& item : data_page.at("items")) listed.push_back(item.at("filename"));
    if (!data_page.at("has_next").get<bool>()) break;
    cursor = data_page.at("next_cursor");
  }
  CHECK(listed == std::vector<std::string>{"f4.txt", "f3.txt", "f2.txt", "f1.txt", "f0.txt"});
  CHECK(http_request(local.port(), "POST", "/files/list", R"({"cursor":"nope"})").status == 422);
  // An empty body lists from the start (the JS SDK sends none without params).
  CHECK(http_request(local.port(), "POST", "/files/list").json().at("data").at("items").size() ==
        5);

  client.files.remove(files[2].id);
  CHECK_THROWS_AS(client.files.get(files[2].id), inf::NotFoundError);
  CHECK_THROWS_AS(client.files.remove(files[2].id), inf::NotFoundError);
  CHECK_FALSE(fs::exists(data.path() / "files" / files[2].id));
  CHECK(http_request(local.port(), "GET", path_of(files[2].uri)).status == 404);
  CHECK(http_request(local.port(), "GET", path_of(files[3].uri)).body == "file 3");
}

TEST_CASE("input files reach apps as local paths, and output files come back as uris") {
  LocalRuntime local;
  auto client = local.client();
  TempDir dir;
  const auto poem = dir.write("poem.txt", "roses\nviolets\n");
  const auto uploaded = client.files.upload(poem);

  // A stored file's uri in the input: infsh/file-info reads it from disk and writes a new file.
  const inf::Task info =
      client.tasks.run({{"app", "infsh/file-info"}, {"input", {{"file", uploaded.uri}}}});
  CHECK(info.input.at("file") == uploaded.uri);  // the task keeps what the client sent
  CHECK(info.output.at("size") == 14);
  CHECK(info.output.at("lines") == 2);
  CHECK(info.output.at("filename") == "poem.txt");
  CHECK(info.output.at("content_type") == "text/plain");
  CHECK(info.output.at("fnv1a64") == "8685f1ed1c070fe7");
  const std::string reversed = info.output.at("reversed");
  CHECK(reversed.rfind(local.url() + "/files/", 0) == 0);
  const auto got = client.files.download(reversed, dir.path() / "reversed.txt");
  CHECK(read_file(got) == "\nsteloiv\nsesor");

  // A local path with file_path() is uploaded first; a data URI is decoded by the runtime.
  const inf::Task from_path =
      client.tasks.run({{"app", "infsh/file-info"}, {"input", {{"file", inf::file_path(poem)}}}});
  CHECK(from_path.output.at("size") == 14);
  const inf::Task from_data = client.tasks.run(
      {{"app", "infsh/file-info"}, {"input", {{"file", "data:text/plain;base64,YWJj"}}}});
  CHECK(from_data.output.at("size") == 3);
  CHECK(from_data.output.at("content_type") == "text/plain");
  // The task's scratch space is gone once it ended.
  CHECK(client.files
            .download(from_data.output.at("reversed").get<std::string>(), dir.path() / "cba.txt")
            .filename() == "cba.txt");
  CHECK(read_file(dir.path() / "cba.txt") == "cba");
}

TEST_CASE("echo gives back a stored file's uri, and a path a client names is refused") {
  LocalRuntime local;
  auto client = local.client();
  const auto file = client.files.upload_bytes("abc", {.filename = "abc.txt"});
  const inf::Task echoed =
      client.tasks.run({{"app", "infsh/echo"},
                        {"input",
                         {{"doc", file.uri},
                          {"object", {{"uri", file.uri}, {"filename", "renamed.txt"}}},
                          {"elsewhere", "https://example.com/cat.png"}}}});
  CHECK(echoed.output.at("doc") == file.uri);
  CHECK(echoed.output.at("object") == file.uri);
  CHECK(echoed.output.at("elsewhere") == "https://example.com/cat.png");

  // Sent raw: the C++ client would upload an existing path itself.
  const auto created = http_request(
      local.port(), "POST", "/apps/run",
      R"({"app":"infsh/echo","input":{"passwd":{"path":"/etc/passwd"},"rel":{"path":"x"}}})");
  CHECK(created.status == 400);
  CHECK_THAT(created.json().at("detail").get<std::string>(),
             Catch::StartsWith("input.passwd.path: "));
  // The C++ client leaves a path that names no file as it is, and gets the refusal.
  CHECK_THROWS_WITH(
      client.tasks.run({{"app", "infsh/echo"}, {"input", {{"rel", {{"path", "no/such/file"}}}}}}),
      Catch::Contains("input.rel.path"));
}

TEST_CASE("a uri of this runtime that names no stored content fails the task, naming the field") {
  LocalRuntime local;
  auto client = local.client();
  const std::string unknown =
      local.url() +
      "/files/file_aaaaaaaaaaaaaaaaaaaa/content?token=00000000000000000000000000000000";
  CHECK_THROWS_WITH(client.tasks.run({{"app", "infsh/file-info"}, {"input", {{"file", unknown}}}}),
                    Catch::Contains("input.file") && Catch::Contains("no file of this runtime"));

  const json slot = create_file(local.port(), {{"files", {{{"uri", ""}}}}});
  CHECK_THROWS_WITH(
      client.tasks.run({{"app", "infsh/echo"}, {"input", {{"list", {slot.at("uri")}}}}}),
      Catch::Contains("input.list[0]") && Catch::Contains("no content yet"));
  // Sent raw: the C++ client checks data URIs itself before sending.
  const auto created =
      http_request(local.port(), "POST", "/apps/run",
                   R"({"app":"infsh/echo","input":{"bad":"data:text/plain;base64,@@"}})");
  REQUIRE(created.status == 200);
  CHECK_THROWS_WITH(
      client.tasks.wait_for_completion(created.json().at("data").at("id").get<std::string>()),
      Catch::Contains("input.bad") && Catch::Contains("data: URI"));
}
