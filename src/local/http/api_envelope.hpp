#pragma once

// How API answers are wrapped for each client generation (protocol-latest.md sections 1-3):
// `X-API-Version: 2` gets the bare payload; every other client gets the compat envelope
// {success, status, data, messages}. Errors have one body every client reads.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http/http_message.hpp"

namespace infsh::local {

enum class ApiVersion { compat, v2 };

/// v2 only for `X-API-Version: 2`; anything else (absent, 1, 3, junk) is compat.
ApiVersion api_version(const Request& request) noexcept;

/// A JSON response with Content-Type application/json.
Response json_response(int status, const nlohmann::json& body);

/// A success answer carrying `payload`, wrapped as the client expects.
Response api_success(const Request& request, const nlohmann::json& payload, int status = 200);
/// The same, for an answer made after the request is gone (its version kept).
Response api_success(ApiVersion version, const nlohmann::json& payload, int status = 200);

/// A success without a result (cancel, delete): `data: null` in the envelope, `null` for v2.
Response api_void(const Request& request);

/// The machine-readable code sent for an error status, e.g. 404 → "NOT_FOUND".
std::string_view error_code_for(int status) noexcept;

/// The error body every client reads, with Content-Type application/json:
/// {type, title, status, detail, success:false, error:{code, message}}.
Response api_error(int status, const std::string& detail, std::string_view code = {});

/// A problem with a request, thrown by endpoint code and turned into api_error by the router.
class ApiProblem : public std::runtime_error {
 public:
  ApiProblem(int status, const std::string& detail, std::string code = {})
      : std::runtime_error(detail), status_(status), code_(std::move(code)) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }

 private:
  int status_;
  std::string code_;
};

}  // namespace infsh::local
