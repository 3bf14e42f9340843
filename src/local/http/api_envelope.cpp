#include "http/api_envelope.hpp"
#include "common/json_parse.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

ApiVersion api_version(const Request& request) noexcept {
  const auto version = request.header("X-API-Version");
  return version && trim(*version) == "2" ? ApiVersion::v2 : ApiVersion::compat;
}

Response json_response(int status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  response.body = common::compact_json(body);
  response.headers.emplace_back("Content-Type", "application/json");
  return response;
}

Response api_success(const Request& request, const nlohmann::json& payload, int status) {
  return api_success(api_version(request), payload, status);
}

Response api_success(ApiVersion version, const nlohmann::json& payload, int status) {
  if (version == ApiVersion::v2) return json_response(status, payload);
  return json_response(status, {{"success", true},
                                {"status", status},
                                {"data", payload},
                                {"messages", nlohmann::json::array()}});
}

Response api_void(const Request& request) { return api_success(request, nullptr); }

std::string_view error_code_for(int status) noexcept {
  switch (status) {
    case 400:
      return "BAD_REQUEST";
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "METHOD_NOT_ALLOWED";
    case 408:
      return "REQUEST_TIMEOUT";
    case 409:
      return "CONFLICT";
    case 410:
      return "GONE";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 415:
      return "UNSUPPORTED_MEDIA_TYPE";
    case 422:
      return "VALIDATION_ERROR";
    case 429:
      return "RATE_LIMITED";
    case 431:
      return "HEADERS_TOO_LARGE";
    case 501:
      return "NOT_IMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL_ERROR" : "ERROR";
  }
}

Response api_error(int status, const std::string& detail, std::string_view code) {
  const std::string code_text(code.empty() ? error_code_for(status) : code);
  return json_response(status, {{"type", "about:blank"},
                                {"title", std::string(reason_phrase(status))},
                                {"status", status},
                                {"detail", detail},
                                {"success", false},
                                {"error", {{"code", code_text}, {"message", detail}}}});
}

}  // namespace infsh::local
