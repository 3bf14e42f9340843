// Tests of the scripted test server itself, with libcurl and raw sockets as clients.

#include "support/scripted_server.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using inferencesh::testing::RecordedRequest;
using inferencesh::testing::Reply;
using inferencesh::testing::Router;
using inferencesh::testing::ScriptedServer;

namespace {

// ----- libcurl as the client -----------------------------------------------------------------

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Easy make_easy() {
  static const CURLcode global_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  REQUIRE(global_init == CURLE_OK);
  Easy easy(curl_easy_init());
  REQUIRE(easy);
  return easy;
}

struct Call {
  std::string method = "GET";
  std::optional<std::string> body;   // sent with Content-Length
  std::vector<std::string> upload;   // sent as a chunked body, one read per piece
  std::vector<std::string> headers;  // "Name: value"
};

struct Result {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::vector<std::string> headers;  // header lines without CRLF, the status line included

  bool has_header(std::string_view line) const {
    for (const auto& h : headers) {
      if (h == line) return true;
    }
    return false;
  }
};

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!line.empty()) static_cast<std::vector<std::string>*>(user)->push_back(line);
  return size * count;
}

struct Upload {
  const std::vector<std::string>* pieces;
  std::size_t next = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  if (upload->next == upload->pieces->size()) return 0;
  const auto& piece = (*upload->pieces)[upload->next++];
  REQUIRE(piece.size() <= size * count);
  std::memcpy(buffer, piece.data(), piece.size());
  return piece.size();
}

// Performs one call on `easy`, resetting what an earlier call on the same handle set.
Result perform(CURL* easy, const std::string& url, const Call& call = {}) {
  Result result;
  Upload upload{&call.upload};
  Slist headers;
  for (const auto& h : call.headers) {
    curl_slist* appended = curl_slist_append(headers.get(), h.c_str());
    REQUIRE(appended != nullptr);
    static_cast<void>(headers.release());  // the same list, now owned through `appended`
    headers.reset(appended);
  }
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_NOBODY, call.method == "HEAD" ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &result.headers);
  if (call.body) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body->size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, call.body->data());
  } else if (!call.upload.empty()) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, nullptr);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(-1));
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(easy, CURLOPT_READDATA, &upload);
  }
  if (call.method != "GET" && call.method != "POST" && call.method != "HEAD") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  result.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

Result perform(const std::string& url, const Call& call = {}) {
  const auto easy = make_easy();
  return perform(easy.get(), url, call);
}

// ----- a raw socket as the client ------------------------------------------------------------

// A blocking TCP client that keeps everything it received.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Reads until `needle` appears in everything received; false on end of stream or timeout.
  bool read_until(std::string_view needle, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }

  // Reads until the server ends the connection (cleanly or with a reset); false on timeout.
  bool read_to_end(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (read_some(deadline)) {
    }
    return ended_;
  }

  const std::string& received() const { return received_; }
  bool reset_by_server() const { return reset_; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    if (ended_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd readable{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char buffer[4096];
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      ended_ = true;
      reset_ = n < 0;
      return false;
    }
    received_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string received_;
  bool ended_ = false;
  bool reset_ = false;
};

std::string get_request(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

ScriptedServer::Handler always(const Reply& reply) {
  return [reply](const RecordedRequest&) { return reply; };
}

}  // namespace

// ----- replies -------------------------------------------------------------------------------

TEST_CASE("a reply's status, headers and body reach the client") {
  ScriptedServer server(always(Reply::status(201).header("X-Test", "yes").body("hello")));

  const auto result = perform(server.base_url() + "/");

  CHECK(result.code == CURLE_OK);
  CHECK(result.status == 201);
  CHECK(result.body == "hello");
  CHECK(result.has_header("HTTP/1.1 201 Created"));
  CHECK(result.has_header("X-Test: yes"));
  CHECK(result.has_header("Content-Length: 5"));
}

TEST_CASE("a JSON reply carries its body and content type") {
  ScriptedServer server(always(Reply::json(200, {{"id", "t1"}, {"n", 2}})));

  const auto result = perform(server.base_url() + "/");

  CHECK(result.status == 200);
  CHECK(result.has_header("Content-Type: application/json"));
  CHECK(nlohmann::json::parse(result.body) == nlohmann::json{{"id", "t1"}, {"n", 2}});
}

TEST_CASE("a reply without a body says Content-Length 0 and keeps the connection") {
  ScriptedServer server(always(Reply::status(202)));
  const auto easy = make_easy();

  const auto first = perform(easy.get(), server.base_url() + "/a");
  const auto second = perform(easy.get(), server.base_url() + "/b");

  CHECK(first.status == 202);
  CHECK(first.has_header("Content-Length: 0"));
  CHECK(second.status == 202);
  CHECK(server.connection_count() == 1);
}

TEST_CASE("a HEAD request gets the head of the reply without its body") {
  ScriptedServer server(always(Reply::status(200).body("twelve bytes")));
  const auto easy = make_easy();
  Call head;
  head.method = "HEAD";

  const auto headers_only = perform(easy.get(), server.base_url() + "/", head);
  const auto full = perform(easy.get(), server.base_url() + "/");

  CHECK(headers_only.code == CURLE_OK);
  CHECK(headers_only.has_header("Content-Length: 12"));
  CHECK(headers_only.body.empty());
  CHECK(full.body == "twelve bytes");
  CHECK(server.connection_count() == 1);
}

TEST_CASE("a raw reply puts exactly its bytes on the wire and closes the connection") {
  const std::string bytes =
      "HTTP/1.1 418 I'm a teapot\r\nX-Odd:  spaced \r\nContent-Length: 2\r\n\r\nhi";
  ScriptedServer server(always(Reply::raw(bytes)));
  RawClient client(server.port());

  client.send(get_request("/"));

  REQUIRE(client.read_to_end());
  CHECK(client.received() == bytes);
}

TEST_CASE("a reply that sends without a length is delimited by closing the connection") {
  ScriptedServer server(always(Reply::status(200).send("abc").send("def")));

  const auto result = perform(server.base_url() + "/");

  CHECK(result.code == CURLE_OK);
  CHECK(result.body == "abcdef");
  CHECK(result.has_header("Connection: close"));
  CHECK_FALSE(result.has_header("Content-Length: 0"));
}

TEST_CASE("a handler that throws is answered with 500") {
  ScriptedServer server([](const RecordedRequest&) -> Reply { throw std::runtime_error("boom"); });

  const auto result = perform(server.base_url() + "/");

  CHECK(result.status == 500);
  CHECK(nlohmann::json::parse(result.body).at("what") == "boom");
}

TEST_CASE("a server without a handler answers 404") {
  ScriptedServer server;

  const auto result = perform(server.base_url() + "/nothing");

  CHECK(result.status == 404);
  CHECK(server.request_count() == 1);
}

TEST_CASE("set_handler applies to the requests that follow") {
  ScriptedServer server(always(Reply::status(200)));
  CHECK(perform(server.base_url() + "/").status == 200);

  server.set_handler(always(Reply::status(503)));

  CHECK(perform(server.base_url() + "/").status == 503);
}

// ----- chunked and split bodies --------------------------------------------------------------

TEST_CASE("chunked sends arrive in order and reassemble into the body") {
  ScriptedServer server(
      always(Reply::status(200).chunked().send("one\n").send("two\n").send("three\n")));

  const auto result = perform(server.base_url() + "/stream");

  CHECK(result.code == CURLE_OK);
  CHECK(result.has_header("Transfer-Encoding: chunked"));
  CHECK(result.body == "one\ntwo\nthree\n");
}

TEST_CASE("each chunked send is framed as its own chunk on the wire") {
  ScriptedServer server(always(Reply::status(200).chunked().send("one").send("").send("three!")));
  RawClient client(server.port());

  client.send(get_request("/"));

  REQUIRE(client.read_until("0\r\n\r\n"));
  CHECK(
      client.received() ==
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n6\r\nthree!\r\n0\r\n\r\n");
}

TEST_CASE("send_split puts each piece in its own chunk") {
  ScriptedServer server(always(Reply::status(200).chunked().send_split("abcdefg", 3)));
  RawClient client(server.port());

  client.send(get_request("/"));

  REQUIRE(client.read_until("0\r\n\r\n"));
  const auto body = client.received().substr(client.received().find("\r\n\r\n") + 4);
  CHECK(body == "3\r\nabc\r\n3\r\ndef\r\n1\r\ng\r\n0\r\n\r\n");
}

TEST_CASE("send_split delivers the same bytes as a single send") {
  std::string payload;
  for (int i = 0; i < 500; ++i) payload += "line " + std::to_string(i) + "\n";

  SECTION("chunked") {
    ScriptedServer server(always(Reply::status(200).chunked().send_split(payload, 7)));
    CHECK(perform(server.base_url() + "/").body == payload);
  }
  SECTION("with a Content-Length header") {
    ScriptedServer server(always(Reply::status(200)
                                     .header("Content-Length", std::to_string(payload.size()))
                                     .send_split(payload, 1)));
    const auto result = perform(server.base_url() + "/");
    CHECK(result.code == CURLE_OK);
    CHECK(result.body == payload);
  }
  SECTION("delimited by closing the connection") {
    ScriptedServer server(always(Reply::status(200).send_split(payload, 13)));
    CHECK(perform(server.base_url() + "/").body == payload);
  }
}

TEST_CASE("delay holds back what follows for at least its duration") {
  SECTION("between chunks") {
    ScriptedServer server(always(Reply::status(200).chunked().send("a").delay(200ms).send("b")));
    const auto start = std::chrono::steady_clock::now();
    const auto result = perform(server.base_url() + "/");
    CHECK(std::chrono::steady_clock::now() - start >= 200ms);
    CHECK(result.body == "ab");
  }
  SECTION("before the status line") {
    ScriptedServer server(always(Reply::status(200).delay(200ms).body("late")));
    RawClient client(server.port());
    const auto start = std::chrono::steady_clock::now();
    client.send(get_request("/"));
    REQUIRE(client.read_until("HTTP/1.1"));
    CHECK(std::chrono::steady_clock::now() - start >= 200ms);
  }
}

// ----- broken replies ------------------------------------------------------------------------

TEST_CASE("a dropped reply makes the client see a broken transfer") {
  SECTION("in the middle of a chunked body") {
    ScriptedServer server(always(Reply::status(200).chunked().send("partial").drop()));
    const auto result = perform(server.base_url() + "/");
    CHECK(result.status == 200);
    CHECK((result.code == CURLE_PARTIAL_FILE || result.code == CURLE_RECV_ERROR));
  }
  SECTION("short of its Content-Length") {
    ScriptedServer server(
        always(Reply::status(200).header("Content-Length", "100").send("partial").drop()));
    const auto result = perform(server.base_url() + "/");
    CHECK((result.code == CURLE_PARTIAL_FILE || result.code == CURLE_RECV_ERROR));
  }
  SECTION("in a body delimited by closing the connection") {
    ScriptedServer server(always(Reply::status(200).send("partial").drop()));
    const auto result = perform(server.base_url() + "/");
    CHECK(result.code == CURLE_RECV_ERROR);
  }
  SECTION("before the status line") {
    ScriptedServer server(always(Reply::status(200).drop()));
    const auto result = perform(server.base_url() + "/");
    CHECK((result.code == CURLE_RECV_ERROR || result.code == CURLE_GOT_NOTHING));
    CHECK(result.status == 0);
  }
}

TEST_CASE("a dropped reply resets the connection after the bytes sent before it") {
  ScriptedServer server(always(Reply::status(200).chunked().send("partial").drop()));
  RawClient client(server.port());

  client.send(get_request("/"));

  REQUIRE(client.read_to_end());
  CHECK(client.reset_by_server());
  CHECK(client.received().find("7\r\npartial\r\n") != std::string::npos);
  CHECK(client.received().find("0\r\n\r\n") == std::string::npos);
}

TEST_CASE("a stalled reply is released promptly by stop") {
  ScriptedServer server(always(Reply::status(200).chunked().send("a").stall()));
  RawClient client(server.port());
  client.send(get_request("/"));
  REQUIRE(client.read_until("1\r\na\r\n"));

  const auto start = std::chrono::steady_clock::now();
  server.stop();

  CHECK(std::chrono::steady_clock::now() - start < 2s);
  REQUIRE(client.read_to_end());
  CHECK(client.received().find("0\r\n\r\n") == std::string::npos);
}

TEST_CASE("a stall before the status line sends nothing") {
  ScriptedServer server(always(Reply::status(200).stall()));
  RawClient client(server.port());
  client.send(get_request("/"));
  REQUIRE(server.wait_for_requests(1, 5s));

  server.stop();

  REQUIRE(client.read_to_end());
  CHECK(client.received().empty());
}

TEST_CASE("a long delay is cut short by the destructor") {
  const auto start = std::chrono::steady_clock::now();
  {
    ScriptedServer server(always(Reply::status(200).delay(1h).body("never")));
    RawClient client(server.port());
    client.send(get_request("/"));
    REQUIRE(server.wait_for_requests(1, 5s));
  }
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("a stalled reply ends when the client goes away") {
  ScriptedServer server(always(Reply::status(200).chunked().stall()));
  RawClient client(server.port());
  client.send(get_request("/"));
  REQUIRE(client.read_until("\r\n\r\n"));
  CHECK(server.closed_connection_count() == 0);

  client.close();

  CHECK(server.wait_for_closed_connections(1, 5s));
}

TEST_CASE("a client that disconnects in the middle of a reply leaves the server serving") {
  ScriptedServer server([](const RecordedRequest& request) {
    if (request.path == "/big") {
      return Reply::status(200).chunked().send_split(std::string(8 * 1024 * 1024, 'x'), 64 * 1024);
    }
    return Reply::status(200).body("still here");
  });
  {
    RawClient client(server.port());
    client.send(get_request("/big"));
    REQUIRE(client.read_until("\r\n\r\n"));
  }
  REQUIRE(server.wait_for_closed_connections(1, 5s));

  const auto result = perform(server.base_url() + "/small");

  CHECK(result.body == "still here");
}

// ----- requests ------------------------------------------------------------------------------

TEST_CASE("a request's method, target, headers and body are recorded") {
  ScriptedServer server(always(Reply::status(200)));

  Call call;
  call.method = "POST";
  call.body = R"({"app":"echo","n":1})";
  call.headers = {"X-Api-Key: secret", "Content-Type: application/json"};
  perform(server.base_url() + "/v1/run?x=1&y=2", call);

  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& request = requests[0];
  CHECK(request.method == "POST");
  CHECK(request.target == "/v1/run?x=1&y=2");
  CHECK(request.path == "/v1/run");
  CHECK(request.query == "x=1&y=2");
  CHECK(request.version == "HTTP/1.1");
  CHECK(request.header("x-api-key") == "secret");
  CHECK(request.header("X-API-KEY") == "secret");
  CHECK_FALSE(request.header("X-Missing"));
  CHECK(request.body == R"({"app":"echo","n":1})");
  CHECK(request.json().at("n") == 1);
  CHECK(request.connection_id == 1);
}

TEST_CASE("sequential requests on one easy handle share one connection") {
  ScriptedServer server([](const RecordedRequest& request) {
    return Reply::status(200).body("echo:" + request.body);
  });
  const auto easy = make_easy();

  for (int i = 1; i <= 5; ++i) {
    Call call;
    call.method = "POST";
    call.body = std::to_string(i);
    const auto result = perform(easy.get(), server.base_url() + "/n/" + std::to_string(i), call);
    CHECK(result.body == "echo:" + std::to_string(i));
  }

  CHECK(server.connection_count() == 1);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 5);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    CHECK(requests[i].path == "/n/" + std::to_string(i + 1));
    CHECK(requests[i].body == std::to_string(i + 1));
    CHECK(requests[i].connection_id == 1);
  }
}

TEST_CASE("close_connection makes the next request open a new connection") {
  ScriptedServer server(always(Reply::status(200).close_connection()));
  const auto easy = make_easy();

  const auto first = perform(easy.get(), server.base_url() + "/");
  perform(easy.get(), server.base_url() + "/");

  CHECK(first.has_header("Connection: close"));
  CHECK(server.connection_count() == 2);
  REQUIRE(server.request_count() == 2);
  CHECK(server.requests()[1].connection_id == 2);
}

TEST_CASE("a client's Connection: close is honoured") {
  ScriptedServer server(always(Reply::status(200).body("bye")));
  RawClient client(server.port());

  client.send(get_request("/", "Connection: close\r\n"));

  REQUIRE(client.read_to_end());
  CHECK(client.received().find("Connection: close\r\n") != std::string::npos);
  CHECK(client.received().substr(client.received().size() - 3) == "bye");
}

TEST_CASE("pipelined requests on one connection are answered in order") {
  ScriptedServer server(
      [](const RecordedRequest& request) { return Reply::status(200).body(request.path); });
  RawClient client(server.port());

  client.send(get_request("/first") + get_request("/second"));

  REQUIRE(client.read_until("/second"));
  const auto& received = client.received();
  CHECK(received.find("/first") < received.find("/second"));
  CHECK(server.connection_count() == 1);
  CHECK(server.request_count() == 2);
}

TEST_CASE("a request body that arrives in pieces is recorded whole") {
  ScriptedServer server(always(Reply::status(200)));
  RawClient client(server.port());

  client.send("PUT /file HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nhello");
  REQUIRE_FALSE(server.wait_for_requests(1, 50ms));
  client.send("world");

  REQUIRE(server.wait_for_requests(1, 5s));
  CHECK(server.requests()[0].body == "helloworld");
}

TEST_CASE("a request with a chunked body is recorded whole") {
  SECTION("from curl") {
    ScriptedServer server(always(Reply::status(200)));
    Call call;
    call.method = "POST";
    call.upload = {"ab", "cd", "ef"};
    call.headers = {"Transfer-Encoding: chunked"};

    const auto result = perform(server.base_url() + "/upload", call);

    CHECK(result.status == 200);
    REQUIRE(server.request_count() == 1);
    CHECK(server.requests()[0].body == "abcdef");
    CHECK(server.requests()[0].header("Transfer-Encoding") == "chunked");
  }
  SECTION("with chunk extensions and trailers") {
    ScriptedServer server(always(Reply::status(200)));
    RawClient client(server.port());

    client.send(
        "POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;name=value\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Checksum: 42\r\n\r\n");

    REQUIRE(client.read_until("Content-Length: 0\r\n\r\n"));
    const auto request = server.requests().at(0);
    CHECK(request.body == "abc0123456789");
    CHECK(request.header("X-Checksum") == "42");
  }
}

TEST_CASE("Expect: 100-continue is answered before the body is sent") {
  ScriptedServer server(always(Reply::status(200).body("done")));
  RawClient client(server.port());

  client.send(
      "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  REQUIRE(client.read_until("\r\n\r\n"));
  CHECK(client.received() == "HTTP/1.1 100 Continue\r\n\r\n");
  client.send("data");

  REQUIRE(client.read_until("done"));
  CHECK(server.requests().at(0).body == "data");
}

TEST_CASE("a malformed request is answered with 400 and a closed connection") {
  ScriptedServer server(always(Reply::status(200)));
  RawClient client(server.port());

  client.send("nonsense\r\n\r\n");

  REQUIRE(client.read_to_end());
  CHECK(client.received().rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(server.request_count() == 0);
}

// ----- waiting -------------------------------------------------------------------------------

TEST_CASE("wait_for_requests returns false when the requests do not arrive in time") {
  ScriptedServer server(always(Reply::status(200)));
  CHECK_FALSE(server.wait_for_requests(1, 20ms));

  perform(server.base_url() + "/");

  CHECK(server.wait_for_requests(1, 0ms));
  CHECK_FALSE(server.wait_for_requests(2, 20ms));
}

TEST_CASE("wait_for_requests returns true once the requests arrive") {
  ScriptedServer server(always(Reply::status(200)));
  const auto easy = make_easy();
  std::thread caller([&] {
    perform(easy.get(), server.base_url() + "/1");
    perform(easy.get(), server.base_url() + "/2");
  });

  const bool arrived = server.wait_for_requests(2, 10s);
  caller.join();

  CHECK(arrived);
  CHECK(server.request_count() == 2);
}

// ----- Router --------------------------------------------------------------------------------

TEST_CASE("Router answers a route's queued replies in order and repeats the last") {
  Router router;
  router.on("POST", "/run", Reply::status(503)).on("POST", "/run", Reply::status(201));
  ScriptedServer server(router.handler());
  Call post;
  post.method = "POST";
  post.body = "{}";

  CHECK(perform(server.base_url() + "/run", post).status == 503);
  CHECK(perform(server.base_url() + "/run", post).status == 201);
  CHECK(perform(server.base_url() + "/run", post).status == 201);
}

TEST_CASE("Router answers an unknown route with a 404 naming method and path") {
  Router router;
  router.on("POST", "/run", Reply::status(200));
  ScriptedServer server(router.handler());

  const auto result = perform(server.base_url() + "/run?x=1");

  CHECK(result.status == 404);
  const auto body = nlohmann::json::parse(result.body);
  CHECK(body.at("method") == "GET");
  CHECK(body.at("path") == "/run");
}

TEST_CASE("Router passes the request to a function route") {
  Router router;
  router.on("GET", "/echo",
            [](const RecordedRequest& request) { return Reply::status(200).body(request.query); });
  ScriptedServer server(router.handler());

  CHECK(perform(server.base_url() + "/echo?q=1").body == "q=1");
}

TEST_CASE("Router matches a path prefix ending in * and any method for *") {
  Router router;
  router.on("*", "/tasks/*", Reply::status(204));
  ScriptedServer server(router.handler());
  Call del;
  del.method = "DELETE";

  CHECK(perform(server.base_url() + "/tasks/abc/stream").status == 204);
  CHECK(perform(server.base_url() + "/tasks/abc", del).status == 204);
  CHECK(perform(server.base_url() + "/task").status == 404);
}

TEST_CASE("Router routes added after handler() still apply") {
  Router router;
  ScriptedServer server(router.handler());
  CHECK(perform(server.base_url() + "/later").status == 404);

  router.on("GET", "/later", Reply::status(200));

  CHECK(perform(server.base_url() + "/later").status == 200);
}
