#pragma once

// Maps method + path pattern to endpoint handlers. Endpoint groups (tasks now; files, sessions,
// chats later) each add their routes through a register_*_routes(Router&, ...) function.
//
//   router.add("GET", "/tasks/{id}", [](Request& r, const PathParams& p) { ... p.get("id") ... });

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_message.hpp"
#include "logger.hpp"

namespace infsh::local {

/// The values of a matched pattern's {placeholders}, percent-decoded.
class PathParams {
 public:
  void set(std::string name, std::string value);
  /// The value of `{name}`; empty if the pattern had no such placeholder.
  const std::string& get(std::string_view name) const noexcept;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

struct RouteOptions {
  /// Requires the API key (when the runtime has one). Off for endpoints reached without the
  /// key by design, e.g. signed upload URLs and health checks.
  bool authenticated = true;
};

using RouteHandler = std::function<Response(Request& request, const PathParams& params)>;

class Router {
 public:
  /// `api_key` empty: no authentication.
  Router(const Logger& log, std::string api_key);

  /// Adds a route. `pattern` is a path whose segments are literals or {name} placeholders.
  void add(std::string method, std::string_view pattern, RouteHandler handler,
           RouteOptions options = {});

  /// Answers a request: 404 for unknown paths, 405 with Allow for unknown methods, 401 without
  /// the key; errors thrown by handlers become API error responses. Adds X-Request-Id.
  Response handle(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" segments capture
    RouteHandler handler;
    RouteOptions options;
  };
  Response dispatch(Request& request) const;

  const Logger& log_;
  std::string api_key_;
  std::vector<Route> routes_;
};

}  // namespace infsh::local
