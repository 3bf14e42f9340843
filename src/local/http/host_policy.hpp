#pragma once

// Which requests a web page could have sent, refused before anything else is looked at. A
// browser lets any page send requests to 127.0.0.1; two things tell them apart from the SDKs':
//
// - `Host`: a page that rebinds its own DNS name to 127.0.0.1 (DNS rebinding) reaches the runtime
//   as a same-origin request, readable by the page, but carries its own name in Host. On a
//   loopback bind only loopback names (localhost, *.localhost, 127.0.0.0/8, [::1]) and the
//   allowed hosts are accepted.
// - `Origin`: browsers send it with every cross-origin POST; the SDKs never send it. Only the
//   runtime's own origin (http://<the request's Host>) is accepted, on any bind.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_message.hpp"

namespace infsh::local {

/// True for names that always mean this machine: "localhost" and "*.localhost" (RFC 6761),
/// 127.0.0.0/8 literals and ::1 (also bracketed, "[::1]"). No port; case-insensitive.
bool is_loopback_host_name(std::string_view host) noexcept;

class HostPolicy {
 public:
  /// `loopback_bind`: the server listens on a loopback address, so Host is checked;
  /// `allowed_hosts`: further names accepted in Host (without port).
  HostPolicy(bool loopback_bind, const std::vector<std::string>& allowed_hosts);

  /// Why the head must be refused (answer 403), or nullopt when it may go on.
  std::optional<std::string> refusal(const Request& head) const;

 private:
  bool allowed_name(std::string_view host) const noexcept;

  bool check_host_;
  std::vector<std::string> allowed_hosts_;
};

}  // namespace infsh::local
