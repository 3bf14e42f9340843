#include "http/router.hpp"

#include <chrono>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/percent_encoding.hpp"
#include "http/api_envelope.hpp"
#include "http/auth.hpp"
#include "infsh/local/app.hpp"
#include "support/id_generator.hpp"

namespace infsh::local {

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) segments.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool is_placeholder(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// application/json, or any type with the +json suffix (RFC 6839); parameters allowed. A web
// page can send a body without a preflight only as text/plain, form data or with no type, so
// requiring a JSON type keeps pages from driving the API with simple requests.
bool is_json_media_type(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  std::string_view type = content_type->substr(0, content_type->find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  constexpr std::string_view suffix = "+json";
  const auto slash = type.find('/');
  return iequals(type, "application/json") ||
         (slash != std::string_view::npos && slash > 0 && type.size() > slash + suffix.size() &&
          iequals(type.substr(type.size() - suffix.size()), suffix));
}

Response unauthorized() {
  return api_error(401, "missing or invalid API key (send Authorization: Bearer <key>)")
      .set_header("WWW-Authenticate", "Bearer");
}

}  // namespace

void PathParams::set(std::string name, std::string value) {
  values_.emplace_back(std::move(name), std::move(value));
}

const std::string& PathParams::get(std::string_view name) const noexcept {
  static const std::string empty;
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  return empty;
}

Router::Router(const Logger& log, std::string api_key) : log_(log), api_key_(std::move(api_key)) {}

void Router::add(std::string method, std::string_view pattern, RouteHandler handler,
                 RouteOptions options) {
  routes_.push_back({std::move(method), split_path(pattern), std::move(handler), {}, options});
}

void Router::add_streamed(std::string method, std::string_view pattern, BodyRouteHandler open_body,
                          RouteOptions options) {
  routes_.push_back({std::move(method), split_path(pattern), {}, std::move(open_body), options});
}

namespace {

// Gives the answers of a streamed route their X-Request-Id, as Router::handle does for others.
class RequestIdReader final : public BodyReader {
 public:
  RequestIdReader(std::shared_ptr<BodyReader> inner, std::string request_id)
      : inner_(std::move(inner)), request_id_(std::move(request_id)) {}

  std::optional<Response> data(std::string bytes, std::function<void()> consumed) override {
    auto refusal = inner_->data(std::move(bytes), std::move(consumed));
    if (refusal) refusal->set_header("X-Request-Id", request_id_);
    return refusal;
  }
  void end(std::function<void(Response)> respond) override {
    inner_->end([respond = std::move(respond), id = request_id_](Response response) {
      response.set_header("X-Request-Id", id);
      respond(std::move(response));
    });
  }
  void abort() override { inner_->abort(); }

 private:
  std::shared_ptr<BodyReader> inner_;
  std::string request_id_;
};

}  // namespace

const Router::Route* Router::match(const Request& request, PathParams& params,
                                   std::string* allowed) const {
  const auto segments = split_path(request.path);
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    PathParams candidate;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      if (is_placeholder(route.segments[i])) {
        candidate.set(route.segments[i].substr(1, route.segments[i].size() - 2),
                      inferencesh::common::percent_decode_lenient(segments[i]));
      } else {
        match = route.segments[i] == segments[i];
      }
    }
    if (!match) continue;
    if (route.method != request.method) {
      if (allowed != nullptr && allowed->find(route.method) == std::string::npos) {
        *allowed += allowed->empty() ? route.method : ", " + route.method;
      }
      continue;
    }
    params = std::move(candidate);
    return &route;
  }
  return nullptr;
}

Response Router::no_route(const Request& request, const std::string& allowed) const {
  if (!allowed.empty()) {
    return api_error(405, "method " + request.method + " is not allowed on " + request.path +
                              " (allowed: " + allowed + ")")
        .set_header("Allow", allowed);
  }
  return api_error(404, "no endpoint " + request.method + " " + request.path);
}

bool Router::authorized(const Route& route, const Request& request) const {
  return !route.options.authenticated || api_key_.empty() ||
         bearer_matches(request.header("Authorization"), api_key_);
}

BodyPlan Router::plan_body(Request& head) const {
  PathParams params;
  std::string allowed;
  const Route* route = match(head, params, &allowed);
  BodyPlan plan;
  std::optional<Response> refusal;
  if (route == nullptr) {
    refusal = no_route(head, allowed);
  } else if (!authorized(*route, head)) {
    refusal = unauthorized();
  } else if (route->open_body) {
    const std::string request_id = new_id("req");
    try {
      plan.reader = std::make_shared<RequestIdReader>(route->open_body(head, params), request_id);
      return plan;
    } catch (const ApiProblem& problem) {
      refusal = api_error(problem.status(), problem.what(), problem.code());
    } catch (const std::exception& e) {
      log_.error("internal error in " + head.method + " " + head.path + ": " + e.what());
      refusal = api_error(500, std::string("internal error: ") + e.what());
    }
  } else if (head.has_body && !is_json_media_type(head.header("Content-Type"))) {
    const auto type = head.header("Content-Type");
    refusal = api_error(415,
                        "request bodies must be JSON, sent with Content-Type: "
                        "application/json (got " +
                            (type ? "'" + std::string(type->substr(0, 100)) + "'"
                                  : std::string("no Content-Type")) +
                            ")");
  } else {
    return plan;  // read whole, answered by handle()
  }
  log_.debug(head.method + " " + head.path + " -> " + std::to_string(refusal->status) +
             " (refused at the head)");
  refusal->set_header("X-Request-Id", new_id("req"));
  plan.refusal = std::move(refusal);
  return plan;
}

Response Router::handle(Request& request) const {
  const auto started = std::chrono::steady_clock::now();
  Response response = dispatch(request);
  std::string request_id = new_id("req");
  if (response.pending) response.pending->set_header("X-Request-Id", request_id);
  response.set_header("X-Request-Id", std::move(request_id));
  if (log_.enabled(LogLevel::debug)) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    log_.debug(request.method + " " + request.path + " -> " + std::to_string(response.status) +
               (response.stream ? " (stream)" : "") +
               (response.pending ? " (answer to come)" : "") + " in " + std::to_string(micros) +
               " us");
  }
  return response;
}

Response Router::dispatch(Request& request) const {
  PathParams params;
  std::string allowed;
  const Route* route = match(request, params, &allowed);
  if (route == nullptr) return no_route(request, allowed);
  if (!authorized(*route, request)) return unauthorized();
  try {
    if (!route->handler) {
      // Streamed routes are answered by their reader (the server plans every request's body).
      throw std::logic_error("a streamed route was reached without its body plan");
    }
    return route->handler(request, params);
  } catch (const ApiProblem& problem) {
    return api_error(problem.status(), problem.what(), problem.code());
  } catch (const InvalidInputError& invalid) {
    return api_error(422, invalid.what());
  } catch (const std::exception& e) {
    log_.error("internal error in " + request.method + " " + request.path + ": " + e.what());
    return api_error(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace infsh::local
