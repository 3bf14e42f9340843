// Webhook URLs without I/O: what they name, and which of them lead back to the runtime.

#include <catch2/catch.hpp>

#include <stdexcept>

#include "local/tasks/webhook_url.hpp"

using infsh::local::ListenAddress;
using infsh::local::parse_webhook_url;
using infsh::local::reaches_listener;
using infsh::local::redacted_url;

TEST_CASE("webhook URLs are parsed into scheme, host and port") {
  const auto plain = parse_webhook_url("http://Example.COM/hook?x=1");
  CHECK(plain.scheme == "http");
  CHECK(plain.host == "example.com");
  CHECK(plain.port == 80);
  const auto tls = parse_webhook_url("HTTPS://user:pw@hooks.example.com.:8443#frag");
  CHECK(tls.scheme == "https");
  CHECK(tls.host == "hooks.example.com");
  CHECK(tls.port == 8443);
  const auto v6 = parse_webhook_url("http://[FE80::1%25eth0]:9/x");
  CHECK(v6.host == "fe80::1");
  CHECK(v6.port == 9);
  CHECK(parse_webhook_url("https://h").port == 443);
  CHECK(parse_webhook_url("http://h:/").port == 80);
}

TEST_CASE("webhook URLs that are not absolute http URLs are refused with the reason") {
  const auto reason = [](const char* url) {
    try {
      parse_webhook_url(url);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(reason("ftp://h/x").find("http") != std::string::npos);
  CHECK(reason("javascript:alert(1)").find("absolute") != std::string::npos);
  CHECK(reason("http:///path").find("no host") != std::string::npos);
  CHECK(reason("http://h:0/").find("port") != std::string::npos);
  CHECK(reason("http://h:65536/").find("port") != std::string::npos);
  CHECK(reason("http://h:12ab/").find("port") != std::string::npos);
  CHECK(reason("http://::1/").find("brackets") != std::string::npos);
  CHECK(reason("http://[::1/").find("[") != std::string::npos);
  CHECK(reason("http://[example.com]/").find("IPv6") != std::string::npos);
  CHECK(reason("http://%31%32%37.0.0.1/").find("percent") != std::string::npos);
  CHECK(reason("http://h/\r\nX-Injected: 1").find("control") != std::string::npos);
  CHECK(reason(("http://h/" + std::string(5000, 'a')).c_str()).find("longer") != std::string::npos);
}

TEST_CASE("a webhook reaches the listener through loopback, unspecified or bound addresses") {
  const ListenAddress loopback{"127.0.0.1", 8080};
  const auto reaches = [](const char* url, const ListenAddress& self) {
    return reaches_listener(parse_webhook_url(url), self);
  };
  CHECK(reaches("http://127.0.0.1:8080/", loopback));
  CHECK(reaches("http://127.0.0.53:8080/", loopback));
  CHECK(reaches("http://017700000001:8080/", loopback));  // octal, as resolvers read it
  CHECK(reaches("http://[0:0:0:0:0:0:0:1]:8080/", loopback));
  CHECK(reaches("http://[::]:8080/", loopback));
  CHECK(reaches("http://0:8080/", loopback));
  CHECK(reaches("http://localhost.localdomain.localhost:8080/", loopback));
  CHECK_FALSE(reaches("http://127.0.0.1:8081/", loopback));
  CHECK_FALSE(reaches("http://127.0.0.1/", loopback));  // port 80
  CHECK_FALSE(reaches("https://127.0.0.1/", loopback));
  CHECK_FALSE(reaches("http://example.com:8080/", loopback));
  CHECK_FALSE(reaches("http://localhostx:8080/", loopback));
  CHECK_FALSE(reaches("http://192.0.2.1:8080/", loopback));

  const ListenAddress bound{"192.0.2.7", 9000};
  CHECK(reaches("http://192.0.2.7:9000/", bound));
  CHECK(reaches("http://localhost:9000/", bound));
  CHECK_FALSE(reaches("http://192.0.2.8:9000/", bound));
  const ListenAddress named{"LocalHost", 9000};
  CHECK(reaches("http://127.0.0.1:9000/", named));
  const ListenAddress v6{"::1", 443};
  CHECK(reaches("https://[::1]/", v6));
  CHECK(reaches("https://localhost/", v6));
}

TEST_CASE("webhook URLs in log lines lose their user info, query and fragment") {
  CHECK(redacted_url("https://u:secret@h.example:8443/p/a?token=x#f") ==
        "https://h.example:8443/p/a");
  CHECK(redacted_url("http://h?token=x") == "http://h");
  CHECK(redacted_url("not a url") == "<not a URL>");
}
