#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/log_level.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh {

/// A non-error notice the server attached to a response (deprecations, limits, upgrades).
struct ResponseMessage {
  std::string level;  ///< e.g. "info", "warning"
  std::string code;
  std::string message;
  nlohmann::json meta;
};

/// Receives the client's log lines (requests, retries, reconnects). Never given the API key.
using LogHook = std::function<void(LogLevel level, std::string_view message)>;

/// When and how often idempotent calls are retried: on 408, 429, 500, 502, 503, 504 and
/// connection errors. A POST is retried only when it carries an idempotency key (or when the
/// connection was refused, so nothing was sent).
struct RetryOptions {
  int max_retries = 2;  ///< retries after the first attempt; 0 disables retries
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  double multiplier = 2.0;
  /// A Retry-After longer than this is not waited for: the error is raised at once, carrying
  /// retry_after(), so the caller decides.
  std::chrono::milliseconds max_retry_after{30000};
};

/// How a client follows a task to its end.
enum class WaitMode {
  stream,  ///< NDJSON stream of updates from /tasks/{id}/stream (default)
  poll,    ///< GET /tasks/{id}/status at an interval, GET /tasks/{id} when it changes
};

/// Defaults for following tasks; each can be overridden per call.
struct WaitDefaults {
  WaitMode mode = WaitMode::stream;
  std::chrono::milliseconds poll_interval{1000};
  /// Consecutive stream reconnects without progress before giving up (0: never reconnect).
  int max_reconnects = 5;
  std::chrono::milliseconds reconnect_backoff{500};  ///< first delay, doubled each time
  std::chrono::milliseconds max_reconnect_backoff{8000};
  /// A stream with no bytes (not even a heartbeat) for this long is treated as broken.
  std::chrono::milliseconds stream_idle_timeout{60000};
};

/// Configuration of a Client. Aggregate: set what you need, the rest has defaults.
///
///     auto client = inf::inference({.api_key = "...", .request_timeout = 10s});
struct ClientOptions {
  /// Falls back to INFERENCE_API_KEY. Needed by every API call; a missing key is reported as a
  /// ConfigurationError by the first call, not here.
  std::string api_key;
  /// Falls back to INFERENCE_API_BASE_URL, then https://api.inference.sh.
  std::string base_url;

  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};  ///< whole unary call
  /// Largest response body a unary call accepts: the body is held in memory to be decoded, so a
  /// server sending without end would otherwise fill it. A larger one is refused with a
  /// DecodeError naming this option (from its Content-Length before it is read, when it has
  /// one). 0: no limit. Task streams (bounded per line) and file downloads (streamed to disk)
  /// are not limited by it.
  std::uint64_t max_response_bytes = std::uint64_t{64} << 20;
  RetryOptions retry;
  WaitDefaults wait;

  std::string proxy;      ///< proxy URL for the built-in transport
  std::string ca_bundle;  ///< PEM bundle of trusted CAs for the built-in transport
  bool verify_tls = true;

  std::string user_agent_suffix;  ///< appended to "inferencesh-cpp/<version>"
  Headers extra_headers;          ///< sent on every API call (not on upload PUTs)

  /// Replaces the built-in libcurl transport (then proxy, ca_bundle, verify_tls and
  /// connect_timeout are for you to apply).
  std::shared_ptr<Transport> transport;

  /// Also upload plain strings in task input that name an existing file or look like base64
  /// (16+ characters), as the Python SDK does. Off: only data URIs, file_path()/file_bytes()
  /// values and File-shaped objects are uploaded, so no string is mistaken for a file.
  bool upload_file_like_strings = false;

  LogHook log;
  /// Called with the `messages` a response carried, when there are any.
  std::function<void(const std::vector<ResponseMessage>& messages)> on_messages;
};

}  // namespace inferencesh
