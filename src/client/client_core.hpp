#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api_request.hpp"
#include "api_response.hpp"
#include "inferencesh/cancellation.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh::detail {

/// The built-in transport's settings from the client's options (TLS, proxy, connect timeout):
/// the blocking transport and the async loop both configure libcurl from them.
CurlTransportOptions curl_transport_options(const ClientOptions& options);

/// What to do after one attempt of an API call: the payload, or another attempt after a delay.
struct AttemptOutcome {
  std::optional<ApiResult> result;
  std::chrono::milliseconds retry_in{0};  ///< when there is no result
};

/// What every resource of a Client shares: resolved options and the transport. Thread-safe.
class ClientCore {
 public:
  explicit ClientCore(const ClientOptions& options);

  const ResolvedOptions& options() const noexcept { return options_; }
  Transport& transport() const noexcept { return *transport_; }

  /// Performs one API call with retries and returns its decoded payload. Throws the typed
  /// ApiError for error statuses, ConnectionError / TimeoutError when no response came,
  /// CancelledError when `cancel` fired.
  ApiResult call(const ApiCall& call, const CancellationToken& cancel = {}) const;

  /// The retry rule of call(), without I/O, for every client that sends API calls: judges
  /// attempt number `retry` (0 first) of `call`, sent as `request` at `started`, from its
  /// `response`, or from `failure` when none came (the transport's exception). Returns the
  /// decoded payload (with notices reported), or the delay before the next attempt (logged);
  /// throws the error the call ends with.
  AttemptOutcome judge_attempt(const ApiCall& call, const HttpRequest& request, int retry,
                               const HttpResponse* response, const std::exception_ptr& failure,
                               std::chrono::steady_clock::time_point started) const;

  /// Opens an event stream at `path` (no retries: the caller decides about reconnecting).
  /// Throws the typed ApiError when the server answers with an error status. Reading the
  /// stream fails with TimeoutError once `deadline`, if given, passes.
  std::unique_ptr<ResponseStream> open_stream(
      std::string_view path, std::string_view accept, const CancellationToken& cancel,
      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) const;

  /// Sends a log line to the configured hook, with the API key removed.
  void log(LogLevel level, std::string message) const;
  bool logging() const noexcept { return static_cast<bool>(options_.log); }

 private:
  ResolvedOptions options_;
  std::shared_ptr<Transport> transport_;
};

}  // namespace inferencesh::detail
