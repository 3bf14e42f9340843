#include "router.hpp"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "api_envelope.hpp"
#include "auth.hpp"
#include "id_generator.hpp"
#include "infsh/local/app.hpp"

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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

bool is_placeholder(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
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

Router::Router(const Logger& log, std::string api_key)
    : log_(log), api_key_(std::move(api_key)) {}

void Router::add(std::string method, std::string_view pattern, RouteHandler handler,
                 RouteOptions options) {
  routes_.push_back({std::move(method), split_path(pattern), std::move(handler), options});
}

Response Router::handle(Request& request) const {
  const auto started = std::chrono::steady_clock::now();
  Response response = dispatch(request);
  response.set_header("X-Request-Id", new_id("req"));
  if (log_.enabled(LogLevel::debug)) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    log_.debug(request.method + " " + request.path + " -> " + std::to_string(response.status) +
               (response.stream ? " (stream)" : "") + " in " + std::to_string(micros) + " us");
  }
  return response;
}

Response Router::dispatch(Request& request) const {
  const auto segments = split_path(request.path);
  std::string allowed;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    PathParams params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      if (is_placeholder(route.segments[i])) {
        params.set(route.segments[i].substr(1, route.segments[i].size() - 2),
                   percent_decode(segments[i]));
      } else {
        match = route.segments[i] == segments[i];
      }
    }
    if (!match) continue;
    if (route.method != request.method) {
      if (allowed.find(route.method) == std::string::npos) {
        allowed += allowed.empty() ? route.method : ", " + route.method;
      }
      continue;
    }
    if (route.options.authenticated && !api_key_.empty() &&
        !bearer_matches(request.header("Authorization"), api_key_)) {
      return api_error(401, "missing or invalid API key (send Authorization: Bearer <key>)")
          .set_header("WWW-Authenticate", "Bearer");
    }
    try {
      return route.handler(request, params);
    } catch (const ApiProblem& problem) {
      return api_error(problem.status(), problem.what(), problem.code());
    } catch (const InvalidInputError& invalid) {
      return api_error(422, invalid.what());
    } catch (const std::exception& e) {
      log_.error("internal error in " + request.method + " " + request.path + ": " + e.what());
      return api_error(500, std::string("internal error: ") + e.what());
    }
  }
  if (!allowed.empty()) {
    return api_error(405, "method " + request.method + " is not allowed on " + request.path +
                              " (allowed: " + allowed + ")")
        .set_header("Allow", allowed);
  }
  return api_error(404, "no endpoint " + request.method + " " + request.path);
}

}  // namespace infsh::local
