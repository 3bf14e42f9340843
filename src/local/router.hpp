#pragma once

// Maps method + path pattern to endpoint handlers. Endpoint groups (tasks now; files, sessions,
// chats later) each add their routes through a register_*_routes(Router&, ...) function.
//
//   router.add("GET", "/tasks/{id}", [](Request& r, const PathParams& p) { ... p.get("id") ... });

#include <functional>
#include <memory>
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

/// Produces the response; one whose `pending` is set is answered later (see PendingAnswer).
using RouteHandler = std::function<Response(Request& request, const PathParams& params)>;

/// Opens the reader that takes in a request body as it arrives (see BodyReader). Called with
/// the request head only; throw ApiProblem to refuse the body before it is read.
using BodyRouteHandler =
    std::function<std::shared_ptr<BodyReader>(Request& head, const PathParams& params)>;

class Router {
 public:
  /// `api_key` empty: no authentication.
  Router(const Logger& log, std::string api_key);

  /// Adds a route. `pattern` is a path whose segments are literals or {name} placeholders.
  void add(std::string method, std::string_view pattern, RouteHandler handler,
           RouteOptions options = {});

  /// Adds a route whose request body is streamed to a reader instead of held in memory
  /// (uploads). Its answer comes from the reader (BodyReader::end).
  void add_streamed(std::string method, std::string_view pattern, BodyRouteHandler open_body,
                    RouteOptions options = {});

  /// Decides on a request at its head (the HttpServer's BodyPlanner), before any of its body is
  /// read: refused for an unknown path or method (404, 405), without the key (401), with a body
  /// that is not JSON on an ordinary route (415), or when a streamed route's handler throws;
  /// else streamed for a route added with add_streamed, whole otherwise.
  BodyPlan plan_body(Request& head) const;

  /// Answers a request: 404 for unknown paths, 405 with Allow for unknown methods, 401 without
  /// the key; errors thrown by handlers become API error responses. Adds X-Request-Id.
  Response handle(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" segments capture
    RouteHandler handler;
    BodyRouteHandler open_body;  // set for streamed routes instead of handler
    RouteOptions options;
  };
  Response dispatch(Request& request) const;
  // The route for this method and path, with its parameters; nullptr when none matches.
  const Route* match(const Request& request, PathParams& params, std::string* allowed) const;
  bool authorized(const Route& route, const Request& request) const;
  // 405 with Allow when the path has routes for other methods (`allowed`), else 404.
  Response no_route(const Request& request, const std::string& allowed) const;

  const Logger& log_;
  std::string api_key_;
  std::vector<Route> routes_;
};

}  // namespace infsh::local
