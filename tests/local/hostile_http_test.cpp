// Hostile clients over real sockets: web pages driving the runtime (DNS rebinding, cross-site
// requests), unauthenticated bodies, framing tricks, slow uploads and streams nobody reads. Each
// is refused early with a clear answer, and none can make the runtime hold memory without bound.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "local_runtime_fixture.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

const std::string kRunBody = R"({"app":"infsh/echo","input":{"a":1}})";

// "http://127.0.0.1:1234/files/x/upload?token=y" → "/files/x/upload?token=y".
std::string path_of(const std::string& url) {
  const auto scheme = url.find("://");
  return url.substr(url.find('/', scheme + 3));
}

std::string hex(std::size_t n) {
  char text[32];
  std::snprintf(text, sizeof text, "%zx", n);
  return text;
}

// A request as raw bytes: `fields` are whole "Name: value" lines without CRLF.
std::string request_bytes(const std::string& method, const std::string& target,
                          const std::vector<std::string>& fields, const std::string& body = {}) {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& field : fields) out += field + "\r\n";
  out += "\r\n" + body;
  return out;
}

std::string message_of(const RawResponse& response) {
  return response.json().at("error").at("message").get<std::string>();
}

bool still_serves(LocalRuntime& local) {
  return http_request(local.port(), "GET", "/health").status == 200;
}

// A JSON body for POST /apps/run of exactly `size` bytes.
std::string run_body_of_size(std::size_t size) {
  const std::string prefix = R"({"app":"infsh/echo","input":{"pad":")";
  const std::string suffix = "\"}}";
  return prefix + std::string(size - prefix.size() - suffix.size(), 'x') + suffix;
}

// The upload URL of a new file slot.
std::string new_upload_url(std::uint16_t port) {
  const auto created = http_request(port, "POST", "/files", R"({"files":[{"uri":""}]})");
  REQUIRE(created.status == 200);
  return created.json().at("data").at(0).at("upload_url").get<std::string>();
}

bool no_part_files(const fs::path& data_dir) { return fs::is_empty(data_dir / "uploads"); }

}  // namespace

// ---- cross-site requests: Host, Origin, media type -------------------------------------------

TEST_CASE("a Host that is not a loopback name is refused on a loopback bind") {
  LocalRuntime local;
  const std::string port = std::to_string(local.port());
  for (const std::string& host : std::vector<std::string>{
           "evil.example", "evil.example:" + port, "127.0.0.1.evil.example:" + port,
           "localhost.evil.example", "192.168.1.10:" + port, "[::2]:" + port, "0.0.0.0:" + port}) {
    INFO(host);
    RawConnection connection(local.port());
    connection.send(request_bytes("GET", "/health", {"Host: " + host}));
    const auto response = connection.read_response();
    CHECK(response.status == 403);
    CHECK(message_of(response).find("Host") != std::string::npos);
  }
  CHECK(still_serves(local));
}

TEST_CASE("loopback Host names and allowed hosts are accepted") {
  auto options = LocalRuntime::quiet();
  options.allowed_hosts = {"runtime.internal"};
  LocalRuntime local(options);
  const std::string port = std::to_string(local.port());
  for (const std::string& host : std::vector<std::string>{
           "127.0.0.1:" + port, "127.0.0.1", "127.5.6.7:" + port, "localhost:" + port, "LOCALHOST",
           "app.localhost:" + port, "[::1]:" + port, "[::1]", "runtime.internal:8080",
           "Runtime.Internal"}) {
    INFO(host);
    RawConnection connection(local.port());
    connection.send(request_bytes("GET", "/health", {"Host: " + host}));
    CHECK(connection.read_response().status == 200);
  }
}

TEST_CASE("allowed hosts given on the command line are accepted and others are not") {
  ChildRuntime child(
      {"--port", "0", "--allowed-host", "runtime.internal", "--allowed-host", "other.internal"});
  const std::string url = child.first_line();
  REQUIRE(url.rfind("http://127.0.0.1:", 0) == 0);
  const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  for (const std::string& host :
       std::vector<std::string>{"runtime.internal", "other.internal:80", "evil.internal"}) {
    INFO(host);
    RawConnection connection(port);
    connection.send(request_bytes("GET", "/health", {"Host: " + host}));
    CHECK(connection.read_response().status == (host == "evil.internal" ? 403 : 200));
  }
}

TEST_CASE("limits given on the command line apply") {
  ChildRuntime child({"--port", "0", "--max-body-bytes", "1KiB", "--max-header-bytes", "4KiB"});
  const std::string url = child.first_line();
  REQUIRE(url.rfind("http://127.0.0.1:", 0) == 0);
  const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  const auto large_body = http_request(port, "POST", "/apps/run", run_body_of_size(2000));
  CHECK(large_body.status == 413);
  CHECK(message_of(large_body).find("1024") != std::string::npos);
  const auto large_head =
      http_request(port, "GET", "/health", {}, {{"X-Padding", std::string(5000, 'p')}});
  CHECK(large_head.status == 431);
  CHECK(message_of(large_head).find("4096") != std::string::npos);
}

TEST_CASE("a JSON body without a JSON content type is refused and creates no task") {
  LocalRuntime local;
  for (const std::string& type : std::vector<std::string>{
           "Content-Type: text/plain", "Content-Type: text/plain;charset=UTF-8",
           "Content-Type: application/x-www-form-urlencoded",
           "Content-Type: multipart/form-data; boundary=x", "Content-Type: application/jsonx",
           "Content-Type: json", "X-No-Content-Type: 1"}) {
    INFO(type);
    RawConnection connection(local.port());
    connection.send(request_bytes(
        "POST", "/apps/run",
        {"Host: 127.0.0.1", type, "Content-Length: " + std::to_string(kRunBody.size())}, kRunBody));
    const auto response = connection.read_response();
    CHECK(response.status == 415);
    CHECK(message_of(response).find("application/json") != std::string::npos);
  }
  CHECK(local.runtime().stats().tasks == 0);
  CHECK(still_serves(local));
}

TEST_CASE("JSON media types with parameters and json suffixes are accepted") {
  LocalRuntime local;
  for (const std::string& type :
       std::vector<std::string>{"application/json", "application/json; charset=utf-8",
                                "Application/JSON", "application/vnd.api+json"}) {
    INFO(type);
    const auto response =
        http_request(local.port(), "POST", "/apps/run", kRunBody, {{"Content-Type", type}});
    CHECK(response.status == 200);
  }
}

TEST_CASE("a request from a foreign Origin is refused and a same-origin one is not") {
  LocalRuntime local;
  const std::string port = std::to_string(local.port());
  const auto post_from = [&](const std::string& origin) {
    RawConnection connection(local.port());
    connection.send(request_bytes(
        "POST", "/apps/run",
        {"Host: 127.0.0.1:" + port, "Origin: " + origin, "Content-Type: application/json",
         "Content-Length: " + std::to_string(kRunBody.size())},
        kRunBody));
    return connection.read_response();
  };
  for (const std::string& origin : std::vector<std::string>{
           "http://evil.example", "null", "http://localhost:1", "https://127.0.0.1:" + port,
           "http://127.0.0.1:" + port + ".evil.example", "http://evil.example:" + port}) {
    INFO(origin);
    const auto response = post_from(origin);
    CHECK(response.status == 403);
    CHECK(message_of(response).find("Origin") != std::string::npos);
  }
  CHECK(local.runtime().stats().tasks == 0);
  CHECK(post_from("http://127.0.0.1:" + port).status == 200);
}

TEST_CASE("upload URLs still take bodies of any content type") {
  LocalRuntime local;
  const std::string url = new_upload_url(local.port());
  const auto response = http_request(local.port(), "PUT", path_of(url), "plain words",
                                     {{"Content-Type", "text/plain"}});
  CHECK(response.status == 200);
}

// ---- chunk extensions and trailers -----------------------------------------------------------

TEST_CASE("trailers beyond the head limit are refused") {
  LocalRuntime local;
  std::string trailers;
  for (int i = 0; i < 64; ++i)
    trailers += "X-Trailer-" + std::to_string(i) + ": " + std::string(1000, 't') + "\r\n";
  RawConnection connection(local.port());
  connection.send(request_bytes(
      "POST", "/apps/run",
      {"Host: 127.0.0.1", "Content-Type: application/json", "Transfer-Encoding: chunked"},
      hex(kRunBody.size()) + "\r\n" + kRunBody + "\r\n0\r\n" + trailers + "\r\n"));
  const auto response = connection.read_response();
  CHECK(response.status == 431);
  CHECK(message_of(response).find("16384") != std::string::npos);
  CHECK(connection.closed_by_peer());
  CHECK(local.runtime().stats().tasks == 0);
  CHECK(still_serves(local));
}

TEST_CASE("a trailer field over 64 KiB is answered and leaves no part file nor connection") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  LocalRuntime local(options);
  const std::string url = new_upload_url(local.port());
  {
    RawConnection connection(local.port());
    connection.send(
        request_bytes("PUT", path_of(url), {"Host: 127.0.0.1", "Transfer-Encoding: chunked"},
                      "5\r\nhello\r\n0\r\nX-Big: " + std::string(70000, 'b') + "\r\n\r\n"));
    const auto response = connection.read_response();
    CHECK(response.status == 431);
  }
  CHECK(wait_until([&] { return local.runtime().stats().open_connections == 0; }));
  CHECK(wait_until([&] { return no_part_files(data.path()); }));
  CHECK(still_serves(local));
}

TEST_CASE("chunk extensions count against the head limit") {
  LocalRuntime local;
  SECTION("one long extension") {
    RawConnection connection(local.port());
    connection.send(request_bytes(
        "POST", "/apps/run",
        {"Host: 127.0.0.1", "Content-Type: application/json", "Transfer-Encoding: chunked"},
        hex(kRunBody.size()) + ";ext=" + std::string(32 * 1024, 'e') + "\r\n" + kRunBody +
            "\r\n0\r\n\r\n"));
    CHECK(connection.read_response().status == 431);
  }
  SECTION("many short extensions") {
    std::string body;
    for (const char c : kRunBody) body += "1;ext=" + std::string(1000, 'e') + "\r\n" + c + "\r\n";
    RawConnection connection(local.port());
    connection.send(request_bytes(
        "POST", "/apps/run",
        {"Host: 127.0.0.1", "Content-Type: application/json", "Transfer-Encoding: chunked"},
        body + "0\r\n\r\n"));
    CHECK(connection.read_response().status == 431);
  }
  CHECK(local.runtime().stats().tasks == 0);
}

// ---- the key and the route are checked on the head -------------------------------------------

TEST_CASE("a request without the key is refused at its head before its body") {
  auto options = LocalRuntime::quiet();
  options.api_key = "secret";
  LocalRuntime local(options);
  RawConnection connection(local.port());
  connection.send(request_bytes(
      "POST", "/apps/run",
      {"Host: 127.0.0.1", "Content-Type: application/json", "Content-Length: 1000000"}));
  const auto response = connection.read_response();  // no byte of the body was sent
  CHECK(response.status == 401);
  CHECK(connection.closed_by_peer());
}

TEST_CASE("Expect 100-continue without the key gets 401 and never 100") {
  auto options = LocalRuntime::quiet();
  options.api_key = "secret";
  LocalRuntime local(options);
  RawConnection connection(local.port());
  connection.send(request_bytes("POST", "/apps/run",
                                {"Host: 127.0.0.1", "Content-Type: application/json",
                                 "Content-Length: 1000", "Expect: 100-continue"}));
  CHECK(connection.read_response().status == 401);
}

TEST_CASE("a body for an unknown endpoint is refused at its head") {
  LocalRuntime local;
  RawConnection connection(local.port());
  connection.send(request_bytes(
      "POST", "/no/such/endpoint",
      {"Host: 127.0.0.1", "Content-Type: application/json", "Content-Length: 1000000"}));
  CHECK(connection.read_response().status == 404);
}

TEST_CASE("request bodies held in memory at once are capped across connections") {
  auto options = LocalRuntime::quiet();
  options.max_body_bytes = 64 * 1024;
  options.max_buffered_body_bytes = 100 * 1024;
  LocalRuntime local(options);
  const std::string body = run_body_of_size(60000);
  const std::vector<std::string> head = {"Host: 127.0.0.1", "Content-Type: application/json",
                                         "Content-Length: 60000", "X-API-Version: 2"};
  // The first body is being read (its bytes are reserved) once its 100 Continue came.
  RawConnection first(local.port());
  auto expecting = head;
  expecting.push_back("Expect: 100-continue");
  first.send(request_bytes("POST", "/apps/run", expecting));
  REQUIRE(first.read_response().status == 100);
  first.send(body.substr(0, 100));
  RawConnection second(local.port());
  second.send(request_bytes("POST", "/apps/run", head));
  const auto refused = second.read_response();
  CHECK(refused.status == 503);
  CHECK(refused.header("Retry-After").has_value());
  CHECK(message_of(refused).find(std::to_string(100 * 1024)) != std::string::npos);

  first.send(body.substr(100));
  CHECK(first.read_response().status == 200);
  RawConnection third(local.port());
  third.send(request_bytes("POST", "/apps/run", head, body));
  CHECK(third.read_response().status == 200);
}

// ---- framing ---------------------------------------------------------------------------------

TEST_CASE(
    "transfer codings other than chunked alone are refused and never read as a next request") {
  LocalRuntime local;
  const std::string smuggled = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::vector<std::pair<std::vector<std::string>, int>> cases = {
      {{"Transfer-Encoding: identity"}, 400},
      {{"Transfer-Encoding: gzip"}, 400},
      {{"Transfer-Encoding: xchunked"}, 400},
      {{"Transfer-Encoding: chunked, identity"}, 400},
      {{"Transfer-Encoding: chunked, chunked"}, 400},
      {{"Transfer-Encoding: gzip, chunked"}, 501},
      {{"Transfer-Encoding: gzip", "Transfer-Encoding: chunked"}, 501},
  };
  for (const auto& [codings, status] : cases) {
    INFO(codings.front() + (codings.size() > 1 ? " + " + codings.back() : ""));
    std::vector<std::string> fields = {"Host: 127.0.0.1", "Content-Type: application/json"};
    fields.insert(fields.end(), codings.begin(), codings.end());
    RawConnection connection(local.port());
    connection.send(request_bytes("POST", "/apps/run", fields, smuggled));
    CHECK(connection.read_response().status == status);
    CHECK(connection.read_until_closed().empty());  // no second answer
  }
  CHECK(local.runtime().stats().tasks == 0);
}

// ---- slow bodies -----------------------------------------------------------------------------

TEST_CASE("an upload that trickles in below the minimum rate is cut off with 408") {
  TempDir data;
  auto options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  options.request_timeout = std::chrono::milliseconds(300);
  options.min_body_rate = 1000;
  LocalRuntime local(options);
  const std::string url = new_upload_url(local.port());
  RawConnection connection(local.port());
  connection.send(
      request_bytes("PUT", path_of(url), {"Host: 127.0.0.1", "Content-Length: 100000"}));
  std::atomic<bool> stop{false};
  // One byte every 50 ms: each arrives well within the request timeout, but far below the rate.
  std::thread trickle([&] {
    while (!stop && connection.send("x"))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  RawResponse response;
  try {
    response = connection.read_response(std::chrono::milliseconds(20000));
  } catch (const std::exception& e) {
    FAIL_CHECK(e.what());
  }
  stop = true;
  trickle.join();
  CHECK(response.status == 408);
  CHECK(wait_until([&] { return no_part_files(data.path()); }));
}

TEST_CASE("a whole body that does not arrive within the request timeout gets 408") {
  auto options = LocalRuntime::quiet();
  options.request_timeout = std::chrono::milliseconds(300);
  LocalRuntime local(options);
  RawConnection connection(local.port());
  connection.send(request_bytes(
      "POST", "/apps/run",
      {"Host: 127.0.0.1", "Content-Type: application/json", "Content-Length: 1000"}, "{\"app\":"));
  CHECK(connection.read_response().status == 408);
  CHECK(connection.closed_by_peer());
}

// ---- stream backlogs -------------------------------------------------------------------------

TEST_CASE("streams nobody reads are cut off once their backlogs together pass the total cap") {
  auto options = LocalRuntime::quiet();
  options.max_stream_backlog_bytes = 256 * 1024 * 1024;  // never reached by one stream here
  options.max_total_stream_backlog_bytes = 4 * 1024 * 1024;
  options.write_timeout = std::chrono::minutes(10);
  LocalRuntime local(options);
  // Every update carries the 400 KB input: 60 updates are 24 MB per stream, far more than the
  // kernel's socket buffers take in.
  const json body = {
      {"app", "infsh/progress"},
      {"input", {{"steps", 60}, {"delay_ms", 50}, {"pad", std::string(400000, 'x')}}}};
  const auto created =
      http_request(local.port(), "POST", "/apps/run", body.dump(), {{"X-API-Version", "2"}});
  REQUIRE(created.status == 200);
  const std::string id = created.json().at("id").get<std::string>();
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(std::make_unique<RawConnection>(local.port()));
    streams.back()->send(request_bytes("GET", "/tasks/" + id + "/stream", {"Host: 127.0.0.1"}));
  }
  // Never read: together they pass the total cap, and the runtime lets them go.
  CHECK(wait_until(
      [&] {
        const auto stats = local.runtime().stats();
        return stats.streams_opened == 4 && stats.open_streams == 0;
      },
      std::chrono::milliseconds(30000)));
  http_request(local.port(), "POST", "/tasks/" + id + "/cancel");
  CHECK(still_serves(local));
}
