#include "client_core.hpp"

#include <chrono>
#include <exception>

#include "inferencesh/errors.hpp"
#include "retry_policy.hpp"
#include "secret_redaction.hpp"

namespace inferencesh::detail {
namespace {

using Clock = std::chrono::steady_clock;

long long elapsed_ms(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// True when a retry after `delay` would still start before the deadline.
bool fits_before(const std::optional<Clock::time_point>& deadline,
                 std::chrono::milliseconds delay) {
  return !deadline || Clock::now() + delay < *deadline;
}

}  // namespace

CurlTransportOptions curl_transport_options(const ClientOptions& options) {
  CurlTransportOptions transport;
  transport.verify_tls = options.verify_tls;
  transport.ca_bundle = options.ca_bundle;
  transport.proxy = options.proxy;
  transport.connect_timeout = options.connect_timeout;
  return transport;
}

ClientCore::ClientCore(const ClientOptions& options)
    : options_(resolve_options(options)),
      transport_(options.transport ? options.transport
                                   : make_curl_transport(curl_transport_options(options))) {}

void ClientCore::log(LogLevel level, std::string message) const {
  if (!options_.log) return;
  options_.log(level, redact(std::move(message), options_.api_key));
}

ApiResult ClientCore::call(const ApiCall& call, const CancellationToken& cancel) const {
  const HttpRequest request = build_request(options_, call);
  for (int retry = 0;; ++retry) {
    const auto start = Clock::now();
    HttpResponse response;
    std::exception_ptr failure;
    try {
      response = transport_->send(request, cancel);
    } catch (const ConnectionError&) {
      failure = std::current_exception();  // also timeouts; judged below
    }
    AttemptOutcome outcome =
        judge_attempt(call, request, retry, failure ? nullptr : &response, failure, start);
    if (outcome.result) return std::move(*outcome.result);
    if (cancel.wait_for(outcome.retry_in)) throw CancelledError("the call was cancelled");
  }
}

AttemptOutcome ClientCore::judge_attempt(const ApiCall& call, const HttpRequest& request, int retry,
                                         const HttpResponse* response,
                                         const std::exception_ptr& failure,
                                         Clock::time_point started) const {
  const bool idempotent = is_idempotent(call);
  const std::string& secret = options_.api_key;
  std::optional<std::chrono::milliseconds> delay;
  std::string reason;
  if (response != nullptr) {
    if (logging()) {
      log(LogLevel::debug, request.method + " " + request.url + " -> " +
                               std::to_string(response->status) + " (" +
                               std::to_string(elapsed_ms(started)) + " ms)");
    }
    if (response->status >= 200 && response->status < 300) {
      ApiResult result = decode_success(*response, request.method, request.url, secret);
      if (!result.messages.empty()) {
        for (const auto& message : result.messages) {
          log(LogLevel::info,
              "server message [" + message.level + "] " + message.code + ": " + message.message);
        }
        if (options_.on_messages) options_.on_messages(result.messages);
      }
      return AttemptOutcome{std::move(result), {}};
    }
    if (!idempotent || !is_retryable_status(response->status)) {
      throw_api_error(*response, request.method, request.url, secret);
    }
    std::optional<std::chrono::seconds> retry_after;
    if (auto header = response->header("Retry-After")) retry_after = parse_retry_after(*header);
    delay = retry_delay(options_.retry, retry, retry_after, jitter_random());
    if (!delay || !fits_before(call.deadline, *delay)) {
      throw_api_error(*response, request.method, request.url, secret);
    }
    reason = "HTTP " + std::to_string(response->status);
  } else {
    try {
      std::rethrow_exception(failure);
    } catch (const ConnectionError& e) {
      // Also timeouts. A failure after the request went out may have had its effect, so only
      // idempotent calls are repeated then; a refused connection sent nothing.
      if (!idempotent && e.request_sent()) throw;
      delay = retry_delay(options_.retry, retry, std::nullopt, jitter_random());
      if (!delay || !fits_before(call.deadline, *delay)) throw;
      reason = e.what();
    }
  }
  log(LogLevel::warning, request.method + " " + request.url + " failed (" + reason + "); retry " +
                             std::to_string(retry + 1) + " of " +
                             std::to_string(options_.retry.max_retries) + " in " +
                             std::to_string(delay->count()) + " ms");
  return AttemptOutcome{std::nullopt, *delay};
}

std::unique_ptr<ResponseStream> ClientCore::open_stream(
    std::string_view path, std::string_view accept, const CancellationToken& cancel,
    std::optional<std::chrono::steady_clock::time_point> deadline) const {
  HttpRequest request = build_stream_request(options_, path, accept);
  request.deadline = deadline;
  auto stream = transport_->open(request, cancel);
  if (stream->status() >= 200 && stream->status() < 300) return stream;
  // Collect the (small) error body, then raise the typed error.
  HttpResponse response;
  response.status = stream->status();
  response.headers = stream->headers();
  std::string chunk;
  while (response.body.size() < 65536 && stream->next(chunk)) response.body += chunk;
  throw_api_error(response, request.method, request.url, options_.api_key);
}

}  // namespace inferencesh::detail
