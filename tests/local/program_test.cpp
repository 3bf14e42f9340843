// The infsh-local program: command line, first line of output, signals.

#include <catch2/catch.hpp>

#include <signal.h>

#include "local_runtime_fixture.hpp"

using nlohmann::json;
using namespace infsh::local::testing;

namespace {

std::uint16_t port_of(const std::string& url) {
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("infsh-local prints its URL first, serves it, and exits 0 on SIGINT") {
  ChildRuntime child({"--port", "0", "--log-level", "off"});
  REQUIRE(child.first_line().rfind("http://127.0.0.1:", 0) == 0);
  const auto port = port_of(child.first_line());
  CHECK(port != 0);
  const auto response = http_request(port, "POST", "/apps/run",
                                     R"({"app":"infsh/echo","input":{"v":1}})");
  CHECK(response.status == 200);
  child.signal(SIGINT);
  CHECK(child.wait_exit() == 0);
}

TEST_CASE("infsh-local with --api-key refuses requests without that key") {
  ChildRuntime child({"--api-key", "cli-key", "--log-level", "off"});
  const auto port = port_of(child.first_line());
  CHECK(http_request(port, "GET", "/tasks/x").status == 401);
  CHECK(http_request(port, "GET", "/tasks/x", {}, {{"Authorization", "Bearer cli-key"}}).status ==
        404);
  child.signal(SIGTERM);
  CHECK(child.wait_exit() == 0);
}

TEST_CASE("infsh-local rejects a bad option with status 2") {
  ChildRuntime child({"--port", "many"});
  CHECK(child.first_line().empty());
  CHECK(child.wait_exit() == 2);
  ChildRuntime unknown({"--frobnicate"});
  CHECK(unknown.wait_exit() == 2);
}

TEST_CASE("SIGTERM under load cancels tasks, ends streams with their final state, exits 0") {
  ChildRuntime child({"--workers", "2", "--heartbeat", "50ms", "--log-level", "off"});
  const auto port = port_of(child.first_line());
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (int i = 0; i < 5; ++i) {
    const auto created =
        http_request(port, "POST", "/apps/run",
                     R"({"app":"infsh/progress","input":{"steps":1000,"delay_ms":50}})",
                     {{"X-API-Version", "2"}});
    REQUIRE(created.status == 200);
    const std::string id = created.json().at("id").get<std::string>();
    auto stream = std::make_unique<RawConnection>(port);
    stream->send("GET /tasks/" + id + "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    // The first line (the current state) shows the stream is attached.
    stream->read_stream_until([](const std::string& body) { return body.find('\n') != std::string::npos; });
    streams.push_back(std::move(stream));
  }
  child.signal(SIGTERM);
  for (auto& stream : streams) {
    // The rest of the chunked body: its last JSON line must be the final (cancelled) state.
    const std::string raw = stream->read_until_closed();
    std::string last;
    for (const auto& line : split_lines(raw)) {
      if (line.rfind("{\"", 0) == 0 && line.find("heartbeat") == std::string::npos) last = line;
    }
    REQUIRE_FALSE(last.empty());
    CHECK(json::parse(last).at("status") == 12);
    CHECK(raw.find("\r\n0\r\n\r\n") != std::string::npos);  // the body was ended properly
  }
  CHECK(child.wait_exit() == 0);
}

TEST_CASE("infsh-local exits 1 with a message when its port is taken") {
  LocalRuntime taken;
  ChildRuntime child({"--port", std::to_string(taken.port())});
  CHECK(child.first_line().empty());
  CHECK(child.wait_exit() == 1);
}
