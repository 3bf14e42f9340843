#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "inferencesh/client_options.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh::detail {

/// ClientOptions with every fallback applied (explicit value, environment, default).
struct ResolvedOptions {
  std::string api_key;
  std::string base_url;  ///< without trailing slash
  std::string user_agent;
  Headers extra_headers;
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds request_timeout{0};
  std::uint64_t max_response_bytes = 0;
  RetryOptions retry;
  WaitDefaults wait;
  bool upload_file_like_strings = false;
  LogHook log;
  std::function<void(const std::vector<ResponseMessage>&)> on_messages;
};

/// Reads an environment variable; injectable so that tests need not touch the real environment.
using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> process_environment(const char* name);

inline constexpr const char* kDefaultBaseUrl = "https://api.inference.sh";

/// Applies the fallbacks: explicit option > INFERENCE_API_KEY / INFERENCE_API_BASE_URL > default.
/// Throws ConfigurationError for a base URL that is not http(s).
ResolvedOptions resolve_options(const ClientOptions& options,
                                const EnvironmentLookup& environment = process_environment);

/// One call of the JSON API, before it becomes an HTTP request.
struct ApiCall {
  std::string method = "GET";
  std::string path;  ///< starts with '/', path segments already encoded
  std::optional<nlohmann::json> body;
  std::string idempotency_key;  ///< sent as Idempotency-Key; makes a POST retryable
  /// The end of the operation the call is part of (a wait's deadline): no attempt runs past it
  /// and no retry is begun that could not finish before it.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

/// Percent-encodes one path segment (an id), so "a/../b" can never change the path.
std::string encode_path_segment(std::string_view segment);

/// base + path without doubling or dropping the slash between them.
std::string join_url(std::string_view base, std::string_view path);

/// Builds the HTTP request for a call: URL, JSON body, and headers (Authorization, Accept,
/// Content-Type, User-Agent, X-Client-Source, extra headers). Throws ConfigurationError when no
/// API key is configured.
HttpRequest build_request(const ResolvedOptions& options, const ApiCall& call);

/// The request that opens a stream of events at `path`, asking for `accept`
/// ("application/x-ndjson" or "text/event-stream").
HttpRequest build_stream_request(const ResolvedOptions& options, std::string_view path,
                                 std::string_view accept);

/// True for calls that may be repeated without changing the outcome: GET, HEAD, PUT, DELETE,
/// OPTIONS, and any call that carries an idempotency key.
bool is_idempotent(const ApiCall& call) noexcept;

}  // namespace inferencesh::detail
