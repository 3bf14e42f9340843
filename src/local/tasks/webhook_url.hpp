#pragma once

// The `webhook` of a run request, checked when the task is created: an http(s) URL that does not
// lead back to this runtime. A webhook aimed at the runtime's own port would post every final
// task into its own API (a loop at best, a flood of 404s at worst), so it is refused with a
// 400 naming the field instead of being discovered at delivery time. Without I/O, except for
// listing the machine's addresses when the runtime listens on all of them.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// The parts of a webhook URL that say where it goes.
struct WebhookTarget {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< lower case, without IPv6 brackets or a trailing dot
  std::uint16_t port = 0;
};

/// Parses an absolute http(s) URL. Throws std::invalid_argument saying what is wrong (another
/// scheme, no host, a bad port, spaces or control characters).
WebhookTarget parse_webhook_url(std::string_view url);

/// Where the runtime listens: the address it bound (as given, "127.0.0.1", "::", "0.0.0.0",
/// "localhost" ...) and its port.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

/// True when a request to `target` would reach the runtime listening at `self`: same port and a
/// host that is a loopback name or address (localhost, *.localhost, 127.0.0.0/8 in any of the
/// forms resolvers accept, ::1, IPv4-mapped loopback), the unspecified address (0.0.0.0, ::),
/// the bound address, or, when the runtime listens on every address, one of this machine's.
/// Other host names are not resolved.
bool reaches_listener(const WebhookTarget& target, const ListenAddress& self);

/// A URL for log lines: scheme, host, port and path, without user info, query or fragment
/// (where webhook URLs tend to carry their secrets).
std::string redacted_url(std::string_view url);

/// Checks the `webhook` of a run request's extras (absent, null or "" means none). Throws
/// ApiProblem naming the field: 422 for a value that is not an http(s) URL, 400 for one that
/// reaches this runtime.
void check_webhook_field(const nlohmann::json& extras, const ListenAddress& self);

}  // namespace infsh::local
