// The runtime's request reader fed byte by byte, as the slowest client would send: the same
// requests come out as when the bytes arrive at once (tests/fuzz/fuzz_request_reader.cpp tries
// every other way of cutting them).

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "local/http/request_reader.hpp"

using infsh::local::RequestLimits;
using infsh::local::RequestReader;

namespace {

// Heads, bodies and the error, one line each, for `bytes` received `piece` bytes at a time.
std::vector<std::string> read(const std::string& bytes, std::size_t piece) {
  RequestReader reader(RequestLimits{});
  std::vector<std::string> out;
  std::string body;
  std::size_t offset = 0;
  for (;;) {
    for (auto event = reader.next(); event.kind != RequestReader::Kind::need_more;
         event = reader.next()) {
      if (event.kind == RequestReader::Kind::head) {
        out.push_back(reader.request().method + " " + reader.request().path);
        body.clear();
      } else if (event.kind == RequestReader::Kind::body) {
        body.append(event.body);
      } else if (event.kind == RequestReader::Kind::done) {
        out.push_back("body '" + body + "'");
        reader.start_next();
      } else {
        out.push_back("error " + std::to_string(event.status));
        return out;
      }
    }
    if (offset == bytes.size()) return out;
    const auto space = reader.space();
    const std::size_t n = std::min({piece, space.size, bytes.size() - offset});
    std::copy_n(bytes.data() + offset, n, space.data);
    reader.commit(n);
    offset += n;
  }
}

}  // namespace

TEST_CASE("a request reader fed one byte at a time reads what it reads at once") {
  const std::string requests =
      "POST /a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
      "PUT /c HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nwxyz"
      "GET /d HTTP/1.1\r\nHost: localhost\r\n\r\n";
  const std::vector<std::string> expected = {"POST /a", "body ''",     "POST /b", "body 'abcde'",
                                             "PUT /c",  "body 'wxyz'", "GET /d",  "body ''"};
  CHECK(read(requests, requests.size()) == expected);
  CHECK(read(requests, 1) == expected);
  CHECK(read(requests, 3) == expected);
}
