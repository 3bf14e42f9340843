// The libcurl transport against real sockets: connection reuse, cancellation, timeouts,
// streaming, uploads, proxy and TLS verification.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "inferencesh/errors.hpp"
#include "inferencesh/transport.hpp"
#include "support/scripted_server.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
using inf::testing::Reply;
using inf::testing::ScriptedServer;
using namespace std::chrono_literals;

namespace {

inf::HttpRequest get(const std::string& url) {
  inf::HttpRequest request;
  request.url = url;
  return request;
}

/// A loopback port with nothing listening on it.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

TEST_CASE("sequential calls reuse one keep-alive connection", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::json(200, {{"ok", true}}); });
  auto transport = inf::make_curl_transport();
  for (int i = 0; i < 20; ++i) {
    const auto response = transport->send(get(server.base_url() + "/tasks/t"), {});
    REQUIRE(response.status == 200);
  }
  CHECK(server.request_count() == 20);
  CHECK(server.connection_count() == 1);
}

TEST_CASE("calls from different threads share the connection pool", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::json(200, {{"ok", true}}); });
  auto transport = inf::make_curl_transport();
  for (int i = 0; i < 4; ++i) {
    std::thread([&] {
      for (int j = 0; j < 5; ++j) {
        REQUIRE(transport->send(get(server.base_url() + "/x"), {}).status == 200);
      }
    }).join();
  }
  CHECK(server.request_count() == 20);
  CHECK(server.connection_count() == 1);
}

TEST_CASE("a keep-alive connection stays with the pooled handle that opened it", "[transport]") {
  // libcurl does not support one connection cache for handles in use on several threads at
  // once, so no connection may pass from one pooled handle to another.
  ScriptedServer server([](const auto& request) {
    if (request.path == "/s") return Reply::status(200).chunked().send("a").stall();
    return Reply::json(200, {{"ok", true}});
  });
  auto transport = inf::make_curl_transport();
  {
    auto stream = transport->open(get(server.base_url() + "/s"), {});  // handle A, connection 1
    std::string chunk;
    REQUIRE(stream->next(chunk));
    // Handle B opens connection 2 and keeps it alive when it goes back to the pool.
    REQUIRE(transport->send(get(server.base_url() + "/b"), {}).status == 200);
  }  // the stream closes connection 1 unfinished; handle A goes back to the pool last
  // Handle A again: it opens a connection of its own rather than taking B's.
  REQUIRE(transport->send(get(server.base_url() + "/a"), {}).status == 200);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[1].connection_id == 2);
  CHECK(requests[2].connection_id == 3);
}

TEST_CASE("status, headers and body of a response arrive whole", "[transport]") {
  ScriptedServer server([](const auto&) {
    return Reply::status(201).header("X-Request-Id", "r1").body(std::string(300000, 'z'));
  });
  const auto response = inf::make_curl_transport()->send(get(server.base_url() + "/"), {});
  CHECK(response.status == 201);
  CHECK(response.header("x-request-id") == "r1");
  CHECK(response.body == std::string(300000, 'z'));
}

TEST_CASE("a POST sends its method, headers and body", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::status(204); });
  inf::HttpRequest request = get(server.base_url() + "/apps/run");
  request.method = "POST";
  request.headers = {{"Content-Type", "application/json"}, {"X-Custom", "1"}};
  request.body = std::string(100000, 'b');
  CHECK(inf::make_curl_transport()->send(request, {}).status == 204);
  const auto recorded = server.requests().at(0);
  CHECK(recorded.method == "POST");
  CHECK(recorded.path == "/apps/run");
  CHECK(recorded.header("x-custom") == "1");
  CHECK(recorded.body == request.body);
  CHECK_FALSE(recorded.header("expect").has_value());
}

TEST_CASE("PUT, DELETE and an empty POST use their methods", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::status(200); });
  auto transport = inf::make_curl_transport();
  for (const char* method : {"PUT", "DELETE", "POST", "PATCH"}) {
    inf::HttpRequest request = get(server.base_url() + "/r");
    request.method = method;
    transport->send(request, {});
  }
  const auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].method == "PUT");
  CHECK(requests[1].method == "DELETE");
  CHECK(requests[2].method == "POST");
  CHECK(requests[2].body.empty());
  CHECK(requests[3].method == "PATCH");
}

TEST_CASE("a streamed request body is read from the reader and reports progress", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::status(200); });
  const std::string payload(1 << 20, 'u');
  std::size_t offset = 0;
  std::uint64_t last_sent = 0;
  std::uint64_t reported_total = 0;
  inf::HttpRequest request = get(server.base_url() + "/upload");
  request.method = "PUT";
  request.body_size = payload.size();
  request.body_reader = [&](char* buffer, std::size_t capacity) {
    const std::size_t n = std::min(capacity, payload.size() - offset);
    std::copy_n(payload.data() + offset, n, buffer);
    offset += n;
    return n;
  };
  request.upload_progress = [&](std::uint64_t sent, std::uint64_t total) {
    CHECK(sent >= last_sent);
    last_sent = sent;
    reported_total = total;
  };
  CHECK(inf::make_curl_transport()->send(request, {}).status == 200);
  CHECK(server.requests().at(0).body == payload);
  CHECK(server.requests().at(0).method == "PUT");
  CHECK(last_sent == payload.size());
  CHECK(reported_total == payload.size());
}

TEST_CASE("a refused connection is a ConnectionError that sent nothing", "[transport]") {
  const auto url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
  try {
    inf::make_curl_transport()->send(get(url), {});
    FAIL("expected ConnectionError");
  } catch (const inf::TimeoutError&) {
    FAIL("a refused connection is not a timeout");
  } catch (const inf::ConnectionError& e) {
    CHECK_FALSE(e.request_sent());
    CHECK_THAT(e.what(), Catch::Contains("GET " + url));
  }
}

TEST_CASE("a call in flight is cancelled from another thread", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).stall(); });
  inf::CancellationToken cancel;
  std::thread canceller([&] {
    REQUIRE(server.wait_for_requests(1, 10s));
    cancel.cancel();
  });
  CHECK_THROWS_AS(inf::make_curl_transport()->send(get(server.base_url() + "/slow"), cancel),
                  inf::CancelledError);
  canceller.join();
}

TEST_CASE("an already cancelled token stops a call before it is sent", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::status(200); });
  inf::CancellationToken cancel;
  cancel.cancel();
  CHECK_THROWS_AS(inf::make_curl_transport()->send(get(server.base_url() + "/"), cancel),
                  inf::CancelledError);
  CHECK(server.request_count() == 0);
}

TEST_CASE("a unary call past its timeout is a TimeoutError", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).stall(); });
  inf::HttpRequest request = get(server.base_url() + "/slow");
  request.timeout = 200ms;
  try {
    inf::make_curl_transport()->send(request, {});
    FAIL("expected TimeoutError");
  } catch (const inf::TimeoutError& e) {
    CHECK(e.request_sent());
  }
}

TEST_CASE("a stream hands out body bytes as they arrive", "[transport]") {
  // The server sends one chunk and then holds the connection: a client that waited for the
  // whole body would never return.
  ScriptedServer server([](const auto&) {
    return Reply::status(200)
        .header("Content-Type", "application/x-ndjson")
        .chunked()
        .send("{\"a\":1}\n")
        .stall();
  });
  auto stream = inf::make_curl_transport()->open(get(server.base_url() + "/stream"), {});
  CHECK(stream->status() == 200);
  CHECK(inf::find_header(stream->headers(), "content-type") == "application/x-ndjson");
  std::string chunk;
  REQUIRE(stream->next(chunk));
  CHECK(chunk == "{\"a\":1}\n");
}

TEST_CASE("a stream reassembles chunks split at every byte", "[transport]") {
  const std::string body = "{\"status\":7}\n{\"status\":10,\"output\":\"héllo\"}\n";
  ScriptedServer server(
      [&](const auto&) { return Reply::status(200).chunked().send_split(body, 1); });
  auto stream = inf::make_curl_transport()->open(get(server.base_url() + "/s"), {});
  std::string received;
  std::string chunk;
  while (stream->next(chunk)) received += chunk;
  CHECK(received == body);
}

TEST_CASE("a large body sent at once reaches a slow reader whole, in bounded pieces",
          "[transport]") {
  // 8 MiB in one write: libcurl could hand it all over in one go; the stream holds the socket
  // instead once a MiB is waiting, so what it buffers stays bounded however fast the sender is.
  std::string body(8 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 131) >> 7);
  ScriptedServer server([&](const auto&) { return Reply::status(200).body(body); });
  auto stream = inf::make_curl_transport()->open(get(server.base_url() + "/big"), {});
  std::string received;
  std::string chunk;
  std::size_t largest = 0;
  while (stream->next(chunk)) {
    largest = std::max(largest, chunk.size());
    received += chunk;
  }
  CHECK(received.size() == body.size());
  CHECK(received == body);
  CHECK(largest <= 2 * 1024 * 1024);
}

TEST_CASE("a stream with no bytes for the idle timeout fails with TimeoutError", "[transport]") {
  ScriptedServer server(
      [](const auto&) { return Reply::status(200).chunked().send("first\n").stall(); });
  inf::HttpRequest request = get(server.base_url() + "/s");
  request.idle_timeout = 300ms;
  auto stream = inf::make_curl_transport()->open(request, {});
  std::string chunk;
  REQUIRE(stream->next(chunk));
  CHECK(chunk == "first\n");
  CHECK_THROWS_AS(stream->next(chunk), inf::TimeoutError);
}

TEST_CASE("a stream that keeps receiving bytes outlives its idle timeout", "[transport]") {
  ScriptedServer server([](const auto&) {
    auto reply = Reply::status(200).chunked();
    for (int i = 0; i < 6; ++i) reply.delay(100ms).send("tick\n");
    return reply;
  });
  inf::HttpRequest request = get(server.base_url() + "/s");
  request.idle_timeout = 400ms;  // longer than any gap, shorter than the whole stream
  auto stream = inf::make_curl_transport()->open(request, {});
  std::string received;
  std::string chunk;
  while (stream->next(chunk)) received += chunk;
  CHECK(received.size() == 6 * 5);
}

TEST_CASE("a stream dropped mid-body delivers what came, then a ConnectionError", "[transport]") {
  ScriptedServer server(
      [](const auto&) { return Reply::status(200).chunked().send("{\"status\":7}\n").drop(); });
  auto stream = inf::make_curl_transport()->open(get(server.base_url() + "/s"), {});
  std::string received;
  std::string chunk;
  CHECK_THROWS_AS(
      [&] {
        while (stream->next(chunk)) received += chunk;
      }(),
      inf::ConnectionError);
  CHECK(received == "{\"status\":7}\n");
}

TEST_CASE("a stream is cancelled from another thread while waiting for bytes", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).chunked().send("a").stall(); });
  inf::CancellationToken cancel;
  auto stream = inf::make_curl_transport()->open(get(server.base_url() + "/s"), cancel);
  std::string chunk;
  REQUIRE(stream->next(chunk));
  std::thread canceller([&] { cancel.cancel(); });
  CHECK_THROWS_AS(stream->next(chunk), inf::CancelledError);
  canceller.join();
}

TEST_CASE("an error response on a stream is readable: status, headers and body", "[transport]") {
  ScriptedServer server([](const auto&) { return Reply::json(404, {{"detail", "no such task"}}); });
  auto stream = inf::make_curl_transport()->open(get(server.base_url() + "/s"), {});
  CHECK(stream->status() == 404);
  std::string body;
  std::string chunk;
  while (stream->next(chunk)) body += chunk;
  CHECK(nlohmann::json::parse(body)["detail"] == "no such task");
}

TEST_CASE("closing a stream early leaves the transport usable", "[transport]") {
  ScriptedServer server([](const auto& request) {
    if (request.path == "/s") return Reply::status(200).chunked().send("a").stall();
    return Reply::json(200, {{"ok", true}});
  });
  auto transport = inf::make_curl_transport();
  {
    auto stream = transport->open(get(server.base_url() + "/s"), {});
    std::string chunk;
    REQUIRE(stream->next(chunk));
  }
  CHECK(transport->send(get(server.base_url() + "/after"), {}).status == 200);
}

TEST_CASE("requests go through the configured proxy", "[transport]") {
  ScriptedServer proxy([](const auto&) { return Reply::json(200, {{"via", "proxy"}}); });
  inf::CurlTransportOptions options;
  options.proxy = proxy.base_url();
  const auto response =
      inf::make_curl_transport(options)->send(get("http://api.example.invalid/tasks/t1"), {});
  CHECK(response.status == 200);
  // An HTTP proxy receives the absolute URL in the request line.
  CHECK(proxy.requests().at(0).target == "http://api.example.invalid/tasks/t1");
}

TEST_CASE("TLS certificates are verified by default and a CA bundle can be given",
          "[transport][tls]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("inferencesh-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = (dir / "cert.pem").string();
  const auto key = (dir / "key.pem").string();
  REQUIRE(inf::testing::run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                     "-keyout", key, "-out", cert, "-days", "1", "-subj",
                                     "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"}) ==
          0);
  inf::testing::Subprocess server(
      {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key, "-www"});
  const auto line = server.read_line_containing("ACCEPT", 10s);
  REQUIRE(line.has_value());
  const auto port = line->substr(line->rfind(':') + 1);
  const auto url = "https://127.0.0.1:" + port + "/";

  try {
    inf::make_curl_transport()->send(get(url), {});
    FAIL("an unknown self-signed certificate must be refused");
  } catch (const inf::ConnectionError& e) {
    CHECK_THAT(e.what(), Catch::Contains("TLS"));
  }

  inf::CurlTransportOptions trusting;
  trusting.ca_bundle = cert;
  CHECK(inf::make_curl_transport(trusting)->send(get(url), {}).status == 200);
  std::filesystem::remove_all(dir);
}
