#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/task.hpp"

namespace inferencesh {

/// Base of every exception the SDK throws. Messages never contain the API key.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The client is not configured for the call (for example: no API key). No request was made.
class ConfigurationError : public Error {
 public:
  using Error::Error;
};

/// A call's arguments were refused before any request was made; the message names the argument.
class InvalidArgumentError : public Error {
 public:
  using Error::Error;
};

/// One unmet requirement of a 412 response: a missing secret, integration or scope.
struct Requirement {
  std::string type;  ///< "secret", "integration" or "scope"
  std::string key;
  std::string message;
  nlohmann::json action;  ///< {type, provider?, scopes?, ...} as sent; null when absent
};

/// The API answered with an error status. Carries everything needed to act on it.
///
///     try { client.tasks.get(id); }
///     catch (const inf::NotFoundError& e) { std::cerr << e.detail(); }
///     catch (const inf::ApiError& e) { std::cerr << e.status() << " " << e.request_id(); }
class ApiError : public Error {
 public:
  struct Details {
    int status = 0;
    std::string code;        ///< machine-readable code, e.g. "SESSION_EXPIRED"; may be empty
    std::string detail;      ///< human-readable explanation from the server
    std::string body;        ///< raw response body
    std::string request_id;  ///< X-Request-Id (or similar) if the server sent one
    std::string method;
    std::string url;
    std::optional<std::chrono::seconds> retry_after;
    std::vector<Requirement> requirements;
  };

  explicit ApiError(Details details);

  int status() const noexcept { return details_->status; }
  const std::string& code() const noexcept { return details_->code; }
  const std::string& detail() const noexcept { return details_->detail; }
  const std::string& body() const noexcept { return details_->body; }
  const std::string& request_id() const noexcept { return details_->request_id; }
  const std::string& method() const noexcept { return details_->method; }
  const std::string& url() const noexcept { return details_->url; }
  /// The delay the server asked for (Retry-After), if any.
  std::optional<std::chrono::seconds> retry_after() const noexcept { return details_->retry_after; }
  const Details& details() const noexcept { return *details_; }

 private:
  std::shared_ptr<const Details> details_;
};

/// 400: the request was malformed.
class BadRequestError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 401: the API key is missing, wrong or expired.
class AuthenticationError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 403: the key is valid but may not do this.
class PermissionDeniedError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 404: the resource does not exist.
class NotFoundError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 409: the request conflicts with the resource's state.
class ConflictError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 410: the resource existed but is gone.
class GoneError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 412: the app needs secrets, integrations or scopes the caller has not set up.
class RequirementsNotMetError : public ApiError {
 public:
  using ApiError::ApiError;
  const std::vector<Requirement>& errors() const noexcept { return details().requirements; }
};
/// 422: the request was well-formed but invalid (e.g. input that fails the app's schema).
class UnprocessableEntityError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 429: too many requests; retry_after() says when to try again, if the server said.
class RateLimitError : public ApiError {
 public:
  using ApiError::ApiError;
};
/// 5xx: the server failed.
class ServerError : public ApiError {
 public:
  using ApiError::ApiError;
};

/// 404 SESSION_NOT_FOUND: no session with that id.
class SessionNotFoundError : public NotFoundError {
 public:
  using NotFoundError::NotFoundError;
};
/// 410 SESSION_EXPIRED: the session's idle timeout passed.
class SessionExpiredError : public GoneError {
 public:
  using GoneError::GoneError;
};
/// 410 SESSION_ENDED: the session was ended.
class SessionEndedError : public GoneError {
 public:
  using GoneError::GoneError;
};
/// 500 WORKER_LOST: the worker holding the session went away.
class WorkerLostError : public ServerError {
 public:
  using ServerError::ServerError;
};

/// No HTTP response: the connection could not be made or broke.
class ConnectionError : public Error {
 public:
  /// `request_sent` is false when the failure happened before any byte of the request went
  /// out (refused connection, DNS failure), so retrying cannot repeat a side effect.
  ConnectionError(const std::string& message, bool request_sent)
      : Error(message), request_sent_(request_sent) {}
  bool request_sent() const noexcept { return request_sent_; }

 private:
  bool request_sent_;
};

/// A time limit passed: connecting, the whole request, or no data on a stream for too long.
class TimeoutError : public ConnectionError {
 public:
  TimeoutError(const std::string& message, bool request_sent)
      : ConnectionError(message, request_sent) {}
};

/// A call was cancelled through its CancellationToken, or a task ended as cancelled
/// (then task() holds it).
class CancelledError : public Error {
 public:
  explicit CancelledError(const std::string& message) : Error(message) {}
  CancelledError(const std::string& message, Task task)
      : Error(message), task_(std::make_shared<const Task>(std::move(task))) {}
  /// The cancelled task, or nullptr when the cancellation was of a call.
  const Task* task() const noexcept { return task_.get(); }

 private:
  std::shared_ptr<const Task> task_;
};

/// The task ended as failed; what() and task().error hold the server's error text.
class TaskFailedError : public Error {
 public:
  explicit TaskFailedError(Task task);
  const Task& task() const noexcept { return *task_; }

 private:
  std::shared_ptr<const Task> task_;
};

/// A stream broke its contract: it ended without a final status after every reconnect, or it
/// was used wrongly (e.g. result() before the end).
class StreamError : public Error {
 public:
  using Error::Error;
};

/// A response or stream line could not be decoded (bad JSON, oversized line, bad encoding).
class DecodeError : public Error {
 public:
  using Error::Error;
};

}  // namespace inferencesh
