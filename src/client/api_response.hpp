#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/client_options.hpp"
#include "inferencesh/errors.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh::detail {

/// The payload of a successful response, with any notices the server attached.
struct ApiResult {
  nlohmann::json data;  ///< null for 204 / empty bodies
  std::vector<ResponseMessage> messages;
};

/// Unwraps a 2xx response. The three envelopes the API has used are all accepted:
///   - an object with a boolean `success` (v1): `data` is the payload; success:false is an error;
///   - an object with a `data` key (current): `data` is the payload, `messages` the notices;
///   - anything else (v2): the body is the payload.
/// Throws DecodeError when the body is not JSON, ApiError for a v1 body with success:false.
ApiResult decode_success(const HttpResponse& response, std::string_view method,
                         std::string_view url, std::string_view secret);

/// Builds the typed ApiError for a non-2xx response: the class follows the status (and the
/// code for session errors), the detail is the body's `detail`, then `title`, then `message`,
/// then `error.message` / `error`, then the JSON text, then up to 500 bytes of a non-JSON body.
/// `secret` (the API key) is removed from everything kept in the error.
[[noreturn]] void throw_api_error(const HttpResponse& response, std::string_view method,
                                  std::string_view url, std::string_view secret);

/// Parses a Retry-After value: delta seconds or an HTTP date (relative to `now`).
std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// Parses a `messages` array; entries that are not objects are skipped.
std::vector<ResponseMessage> parse_messages(const nlohmann::json& value);

}  // namespace inferencesh::detail
