#include "http/host_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace infsh::local {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A header value as quoted in a message: short, printable.
std::string quoted(std::string_view value) {
  std::string out;
  for (const char c : value.substr(0, 100)) {
    out += std::isprint(static_cast<unsigned char>(c)) != 0 ? c : '?';
  }
  if (value.size() > 100) out += "...";
  return "'" + out + "'";
}

struct Authority {
  std::string host;  // lower-case; IPv6 literals keep their brackets
  std::string port;  // empty when absent
};

// "name", "name:port", "[v6]" or "[v6]:port"; nullopt when malformed.
std::optional<Authority> parse_authority(std::string_view text) {
  Authority out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = lower(text.substr(0, close + 1));
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    out.host = lower(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return std::nullopt;
    rest.remove_prefix(1);
    if (rest.size() > 5 || !std::all_of(rest.begin(), rest.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      return std::nullopt;
    }
    out.port = std::string(rest);
  }
  const bool bad_char = std::any_of(out.host.begin(), out.host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) == 0 &&
           std::strchr("-._~[]:%", c) == nullptr;
  });
  if (out.host.empty() || bad_char) return std::nullopt;
  return out;
}

std::string_view without_trailing_dot(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

}  // namespace

bool is_loopback_host_name(std::string_view host) noexcept {
  try {
    std::string name = lower(without_trailing_dot(host));
    if (name == "localhost") return true;
    constexpr std::string_view suffix = ".localhost";
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);
    }
    in_addr v4{};
    if (::inet_pton(AF_INET, name.c_str(), &v4) == 1) {
      return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, name.c_str(), &v6) == 1) {
      if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
      return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
    }
    return false;
  } catch (...) {
    return false;
  }
}

HostPolicy::HostPolicy(bool loopback_bind, const std::vector<std::string>& allowed_hosts)
    : check_host_(loopback_bind) {
  for (const auto& host : allowed_hosts) {
    allowed_hosts_.push_back(lower(without_trailing_dot(host)));
  }
}

bool HostPolicy::allowed_name(std::string_view host) const noexcept {
  if (is_loopback_host_name(host)) return true;
  const auto name = without_trailing_dot(host);
  return std::any_of(allowed_hosts_.begin(), allowed_hosts_.end(),
                     [&](const std::string& allowed) { return iequals(allowed, name); });
}

std::optional<std::string> HostPolicy::refusal(const Request& head) const {
  const auto host_header = head.header("Host");
  std::optional<Authority> host;
  if (host_header) host = parse_authority(*host_header);
  if (check_host_) {
    if (!host_header) {
      return "a request without a Host header is refused: this runtime listens on loopback and "
             "answers only requests for localhost, 127.0.0.1 or [::1]";
    }
    if (!host || !allowed_name(host->host)) {
      return "requests for Host " + quoted(*host_header) +
             " are refused: this runtime listens on loopback and answers only requests for "
             "localhost, 127.0.0.1 or [::1] (and names given with --allowed-host), so that a web "
             "page cannot reach it through DNS rebinding";
    }
  }
  const auto origin_header = head.header("Origin");
  if (!origin_header) return std::nullopt;
  // Browsers send Origin; the SDKs do not. Only a page served by the runtime itself (same
  // scheme, host and port as this request) may drive it.
  bool same_origin = false;
  const std::string origin = lower(*origin_header);
  constexpr std::string_view scheme = "http://";
  if (host && origin.rfind(scheme, 0) == 0) {
    std::string_view authority = std::string_view(origin).substr(scheme.size());
    if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
    if (const auto parsed = parse_authority(authority)) {
      const auto port = [](const std::string& p) { return p.empty() ? std::string("80") : p; };
      same_origin = without_trailing_dot(parsed->host) == without_trailing_dot(host->host) &&
                    port(parsed->port) == port(host->port);
    }
  }
  if (same_origin) return std::nullopt;
  return "cross-origin requests are refused: Origin " + quoted(*origin_header) +
         " is not this runtime's own origin, and web pages may not drive the runtime (clients "
         "outside a browser send no Origin)";
}

}  // namespace infsh::local
