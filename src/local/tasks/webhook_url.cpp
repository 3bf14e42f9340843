#include "tasks/webhook_url.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "http/api_envelope.hpp"

namespace infsh::local {

namespace {

constexpr std::size_t kMaxUrlBytes = 4096;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// An IP address in a form that compares by value: IPv4 as its 4 bytes, IPv6 as its 16 (an
// IPv4-mapped IPv6 address becomes the IPv4 one).
struct IpAddress {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
  bool operator==(const IpAddress& other) const { return v6 == other.v6 && bytes == other.bytes; }
};

// inet_aton takes every IPv4 form resolvers (and curl) accept: "127.1", "0x7f.0.0.1",
// "2130706433", octal parts.
std::optional<IpAddress> parse_ip(const std::string& host) {
  IpAddress address;
  if (host.find(':') != std::string::npos) {
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return std::nullopt;
    static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                              0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.s6_addr, kMapped.data(), kMapped.size()) == 0) {
      std::memcpy(address.bytes.data(), v6.s6_addr + 12, 4);
      return address;
    }
    address.v6 = true;
    std::memcpy(address.bytes.data(), v6.s6_addr, 16);
    return address;
  }
  in_addr v4{};
  if (inet_aton(host.c_str(), &v4) == 0) return std::nullopt;
  std::memcpy(address.bytes.data(), &v4.s_addr, 4);
  return address;
}

bool is_unspecified(const IpAddress& address) {
  return std::all_of(address.bytes.begin(), address.bytes.end(),
                     [](unsigned char b) { return b == 0; });
}

bool is_loopback(const IpAddress& address) {
  if (!address.v6) return address.bytes[0] == 127;
  static constexpr std::array<unsigned char, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                              0, 0, 0, 0, 0, 0, 0, 1};
  return address.bytes == kLoopback;
}

bool is_loopback_name(const std::string& host) {
  return host == "localhost" || ends_with(host, ".localhost");
}

// Whether `address` belongs to one of this machine's interfaces.
bool is_local_interface(const IpAddress& address) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, &freeifaddrs);
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    IpAddress local;
    if (entry->ifa_addr->sa_family == AF_INET) {
      sockaddr_in v4{};
      std::memcpy(&v4, entry->ifa_addr, sizeof v4);
      std::memcpy(local.bytes.data(), &v4.sin_addr.s_addr, 4);
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 v6{};
      std::memcpy(&v6, entry->ifa_addr, sizeof v6);
      local.v6 = true;
      std::memcpy(local.bytes.data(), v6.sin6_addr.s6_addr, 16);
    } else {
      continue;
    }
    if (local == address) return true;
  }
  return false;
}

std::string normalise_host(std::string_view host) {
  std::string out = lower(host);
  if (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

WebhookTarget parse_webhook_url(std::string_view url) {
  if (url.size() > kMaxUrlBytes) {
    throw std::invalid_argument("is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  }
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
    throw std::invalid_argument("contains spaces or control characters");
  }
  const auto separator = url.find("://");
  if (separator == std::string_view::npos) {
    throw std::invalid_argument("must be an absolute http:// or https:// URL");
  }
  WebhookTarget target;
  target.scheme = lower(url.substr(0, separator));
  if (target.scheme != "http" && target.scheme != "https") {
    throw std::invalid_argument("must be an http:// or https:// URL, not " + target.scheme + "://");
  }
  std::string_view authority = url.substr(separator + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("has an unclosed '['");
    host = authority.substr(1, close - 1);
    host = host.substr(0, host.find('%'));  // a zone id names an interface, not a host
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw std::invalid_argument("has junk after ']'");
      port = rest.substr(1);
      has_port = true;
    }
    if (host.find(':') == std::string_view::npos) {
      throw std::invalid_argument("has a bracketed host that is not an IPv6 address");
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
    if (host.find(':') != std::string_view::npos) {
      throw std::invalid_argument("has an IPv6 address without [brackets]");
    }
  }
  if (host.empty()) throw std::invalid_argument("has no host");
  if (host.find('%') != std::string_view::npos && authority.front() != '[') {
    throw std::invalid_argument("has a percent-encoded host");
  }
  target.host = normalise_host(host);
  target.port = target.scheme == "https" ? 443 : 80;
  if (has_port && !port.empty()) {
    unsigned long value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || value > 65535) {
        throw std::invalid_argument("has a bad port '" + std::string(port.substr(0, 16)) + "'");
      }
      value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value == 0 || value > 65535) {
      throw std::invalid_argument("has a port outside 1..65535: " + std::string(port));
    }
    target.port = static_cast<std::uint16_t>(value);
  }
  return target;
}

bool reaches_listener(const WebhookTarget& target, const ListenAddress& self) {
  if (target.port != self.port) return false;
  const std::string bound = normalise_host(self.host);
  if (is_loopback_name(target.host) || target.host == bound) return true;
  const auto address = parse_ip(target.host);
  if (!address) return false;  // another host name: not resolved here
  if (is_loopback(*address) || is_unspecified(*address)) return true;
  const auto bound_address = parse_ip(bound);
  if (bound_address && *bound_address == *address) return true;
  const bool listens_everywhere =
      bound.empty() || (bound_address && is_unspecified(*bound_address));
  return listens_everywhere && is_local_interface(*address);
}

std::string redacted_url(std::string_view url) {
  const auto separator = url.find("://");
  if (separator == std::string_view::npos) return "<not a URL>";
  const std::string_view scheme = url.substr(0, separator);
  std::string_view rest = url.substr(separator + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  const auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  const std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  return std::string(scheme) + "://" + std::string(authority) + std::string(path);
}

void check_webhook_field(const nlohmann::json& extras, const ListenAddress& self) {
  const auto it = extras.find("webhook");
  if (it == extras.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return;
  }
  const auto& url = it->get_ref<const std::string&>();
  WebhookTarget target;
  try {
    target = parse_webhook_url(url);
  } catch (const std::invalid_argument& e) {
    throw ApiProblem(422, std::string("field 'webhook' ") + e.what());
  }
  if (reaches_listener(target, self)) {
    throw ApiProblem(400, "field 'webhook' points at this runtime itself (" + target.host + ":" +
                              std::to_string(target.port) +
                              "); a webhook must be received by another server");
  }
}

}  // namespace infsh::local
