#include "api_request.hpp"

#include <cstdlib>

#include "inferencesh/errors.hpp"
#include "inferencesh/version.hpp"

namespace inferencesh::detail {
namespace {

std::string pick(const std::string& explicit_value, const EnvironmentLookup& environment,
                 const char* variable, const std::string& fallback) {
  if (!explicit_value.empty()) return explicit_value;
  if (auto value = environment(variable); value && !value->empty()) return *value;
  return fallback;
}

void require_api_key(const ResolvedOptions& options) {
  if (options.api_key.empty()) {
    throw ConfigurationError(
        "no API key: set ClientOptions::api_key or the INFERENCE_API_KEY environment variable");
  }
}

void add_common_headers(const ResolvedOptions& options, Headers& headers) {
  headers.emplace_back("Authorization", "Bearer " + options.api_key);
  headers.emplace_back("User-Agent", options.user_agent);
  headers.emplace_back("X-Client-Source", std::string("inference-sdk-cpp/") + kVersion);
  for (const auto& header : options.extra_headers) headers.push_back(header);
}

}  // namespace

std::optional<std::string> process_environment(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once at startup
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

ResolvedOptions resolve_options(const ClientOptions& options,
                                const EnvironmentLookup& environment) {
  ResolvedOptions resolved;
  resolved.api_key = pick(options.api_key, environment, "INFERENCE_API_KEY", "");
  resolved.base_url =
      pick(options.base_url, environment, "INFERENCE_API_BASE_URL", kDefaultBaseUrl);
  while (!resolved.base_url.empty() && resolved.base_url.back() == '/') {
    resolved.base_url.pop_back();
  }
  if (resolved.base_url.rfind("http://", 0) != 0 && resolved.base_url.rfind("https://", 0) != 0) {
    throw ConfigurationError("base URL must start with http:// or https://, got \"" +
                             resolved.base_url + "\"");
  }
  resolved.user_agent = std::string("inferencesh-cpp/") + kVersion;
  if (!options.user_agent_suffix.empty()) resolved.user_agent += " " + options.user_agent_suffix;
  resolved.extra_headers = options.extra_headers;
  resolved.connect_timeout = options.connect_timeout;
  resolved.request_timeout = options.request_timeout;
  resolved.max_response_bytes = options.max_response_bytes;
  resolved.retry = options.retry;
  resolved.wait = options.wait;
  resolved.upload_file_like_strings = options.upload_file_like_strings;
  resolved.log = options.log;
  resolved.on_messages = options.on_messages;
  return resolved;
}

std::string encode_path_segment(std::string_view segment) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(segment.size());
  for (const char c : segment) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '_' ||
                            byte == '.' || byte == '~';
    if (unreserved && segment != "." && segment != "..") {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[byte >> 4U]);
      encoded.push_back(kHex[byte & 0x0FU]);
    }
  }
  return encoded;
}

std::string join_url(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string url(base);
  if (path.empty() || path.front() != '/') url.push_back('/');
  url.append(path);
  return url;
}

HttpRequest build_request(const ResolvedOptions& options, const ApiCall& call) {
  require_api_key(options);
  HttpRequest request;
  request.method = call.method;
  request.url = join_url(options.base_url, call.path);
  request.connect_timeout = options.connect_timeout;
  request.timeout = options.request_timeout;
  request.max_response_bytes = options.max_response_bytes;
  request.deadline = call.deadline;
  request.headers.reserve(8 + options.extra_headers.size());
  request.headers.emplace_back("Accept", "application/json");
  if (call.body) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = call.body->dump();
  }
  if (!call.idempotency_key.empty()) {
    request.headers.emplace_back("Idempotency-Key", call.idempotency_key);
  }
  add_common_headers(options, request.headers);
  return request;
}

HttpRequest build_stream_request(const ResolvedOptions& options, std::string_view path,
                                 std::string_view accept) {
  require_api_key(options);
  HttpRequest request;
  request.method = "GET";
  request.url = join_url(options.base_url, path);
  request.connect_timeout = options.connect_timeout;
  request.idle_timeout = options.wait.stream_idle_timeout;
  request.headers.emplace_back("Accept", std::string(accept));
  request.headers.emplace_back("Cache-Control", "no-cache");
  add_common_headers(options, request.headers);
  return request;
}

bool is_idempotent(const ApiCall& call) noexcept {
  if (!call.idempotency_key.empty()) return true;
  const auto& m = call.method;
  return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS";
}

}  // namespace inferencesh::detail
