#include "api_response.hpp"

#include <ctime>
#include <exception>

#include "common/json_fields.hpp"
#include "common/json_parse.hpp"
#include "secret_redaction.hpp"

namespace inferencesh::detail {
namespace {

constexpr std::size_t kMaxRawDetail = 500;

// An error body that is not JSON, or nests too deeply to be handled safely, is kept as raw text.
std::optional<nlohmann::json> parse_json(const std::string& body) {
  if (body.empty()) return std::nullopt;
  return common::parse_untrusted_json(body);
}

std::string detail_from(const std::optional<nlohmann::json>& json, const std::string& body) {
  if (json) {
    for (const char* key : {"detail", "title", "message"}) {
      if (auto text = common::string_field_or(*json, key); !text.empty()) return text;
    }
    if (json->is_object()) {
      const auto error = json->find("error");
      if (error != json->end()) {
        if (error->is_string()) return error->get<std::string>();
        if (auto text = common::string_field_or(*error, "message"); !text.empty()) return text;
        if (error->is_object()) return error->dump();
      }
    }
    return json->dump();
  }
  if (body.empty()) return {};
  std::string raw = body.substr(0, kMaxRawDetail);
  // Never cut a UTF-8 sequence in half.
  while (!raw.empty() && (static_cast<unsigned char>(raw.back()) & 0xC0U) == 0x80U) raw.pop_back();
  if (!raw.empty() && (static_cast<unsigned char>(raw.back()) & 0x80U) != 0) raw.pop_back();
  return raw;
}

std::string code_from(const std::optional<nlohmann::json>& json) {
  if (!json || !json->is_object()) return {};
  const auto error = json->find("error");
  if (error != json->end() && error->is_object()) {
    if (auto code = common::string_field_or(*error, "code"); !code.empty()) return code;
  }
  return common::string_field_or(*json, "code");
}

std::vector<Requirement> requirements_from(const std::optional<nlohmann::json>& json) {
  std::vector<Requirement> requirements;
  if (!json || !json->is_object()) return requirements;
  const auto errors = json->find("errors");
  if (errors == json->end() || !errors->is_array()) return requirements;
  for (const auto& entry : *errors) {
    if (!entry.is_object()) continue;
    Requirement requirement;
    requirement.type = common::string_field_or(entry, "type");
    requirement.key = common::string_field_or(entry, "key");
    requirement.message = common::string_field_or(entry, "message");
    if (const auto action = entry.find("action"); action != entry.end()) {
      requirement.action = *action;
    }
    requirements.push_back(std::move(requirement));
  }
  return requirements;
}

std::string request_id_from(const Headers& headers) {
  for (const char* name : {"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Amzn-RequestId"}) {
    if (auto value = find_header(headers, name)) return *value;
  }
  return {};
}

template <typename ErrorType>
[[noreturn]] void raise(ApiError::Details details) {
  throw ErrorType(std::move(details));
}

[[noreturn]] void raise_typed(ApiError::Details details) {
  const int status = details.status;
  const std::string& code = details.code;
  switch (status) {
    case 400:
      raise<BadRequestError>(std::move(details));
    case 401:
      raise<AuthenticationError>(std::move(details));
    case 403:
      raise<PermissionDeniedError>(std::move(details));
    case 404:
      if (code == "SESSION_NOT_FOUND") raise<SessionNotFoundError>(std::move(details));
      raise<NotFoundError>(std::move(details));
    case 409:
      raise<ConflictError>(std::move(details));
    case 410:
      if (code == "SESSION_EXPIRED") raise<SessionExpiredError>(std::move(details));
      if (code == "SESSION_ENDED") raise<SessionEndedError>(std::move(details));
      raise<GoneError>(std::move(details));
    case 412:
      raise<RequirementsNotMetError>(std::move(details));
    case 422:
      raise<UnprocessableEntityError>(std::move(details));
    case 429:
      raise<RateLimitError>(std::move(details));
    default:
      break;
  }
  if (status >= 500) {
    if (code == "WORKER_LOST") raise<WorkerLostError>(std::move(details));
    raise<ServerError>(std::move(details));
  }
  raise<ApiError>(std::move(details));
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (const char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (value.size() > 9) return std::chrono::seconds(999999999);
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm parts{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t when = timegm(&parts);
  const auto delta = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::from_time_t(when) - now);
  return delta.count() > 0 ? delta : std::chrono::seconds(0);
}

std::vector<ResponseMessage> parse_messages(const nlohmann::json& value) {
  std::vector<ResponseMessage> messages;
  if (!value.is_array()) return messages;
  for (const auto& entry : value) {
    if (!entry.is_object()) continue;
    ResponseMessage message;
    message.level = common::string_field_or(entry, "level");
    message.code = common::string_field_or(entry, "code");
    message.message = common::string_field_or(entry, "message");
    if (const auto meta = entry.find("meta"); meta != entry.end()) message.meta = *meta;
    messages.push_back(std::move(message));
  }
  return messages;
}

ApiResult decode_success(const HttpResponse& response, std::string_view method,
                         std::string_view url, std::string_view secret) {
  ApiResult result;
  if (response.status == 204 || response.body.empty()) return result;
  common::JsonParseError error;
  auto parsed = common::parse_untrusted_json(response.body, &error);
  if (!parsed) {
    const std::string what = error.too_deep ? " response refused: its JSON is " + error.message
                                            : " response is not JSON: " + error.message;
    throw DecodeError(redact(std::string(method) + " " + std::string(url) + ": HTTP " +
                                 std::to_string(response.status) + what,
                             secret));
  }
  nlohmann::json body = std::move(*parsed);
  if (!body.is_object()) {
    result.data = std::move(body);
    return result;
  }
  const auto success = body.find("success");
  if (success != body.end() && success->is_boolean()) {
    if (!success->get<bool>()) {
      // A v1 envelope that reports failure despite the 2xx status.
      throw_api_error(response, method, url, secret);
    }
    if (auto data = body.find("data"); data != body.end()) result.data = std::move(*data);
    if (auto messages = body.find("messages"); messages != body.end()) {
      result.messages = parse_messages(*messages);
    }
    return result;
  }
  if (auto data = body.find("data"); data != body.end()) {
    if (auto messages = body.find("messages"); messages != body.end()) {
      result.messages = parse_messages(*messages);
    }
    result.data = std::move(*data);
    return result;
  }
  result.data = std::move(body);
  return result;
}

void throw_api_error(const HttpResponse& response, std::string_view method, std::string_view url,
                     std::string_view secret) {
  const auto json = parse_json(response.body);
  ApiError::Details details;
  details.status = response.status;
  details.code = redact(code_from(json), secret);
  details.detail = redact(detail_from(json, response.body), secret);
  details.body = redact(response.body, secret);
  details.request_id = redact(request_id_from(response.headers), secret);
  details.method = std::string(method);
  details.url = redact(std::string(url), secret);
  if (auto retry_after = find_header(response.headers, "Retry-After")) {
    details.retry_after = parse_retry_after(*retry_after);
  }
  if (response.status == 412) {
    details.requirements = requirements_from(json);
    for (auto& requirement : details.requirements) {
      requirement.message = redact(std::move(requirement.message), secret);
    }
    if (json && json->is_object() && json->contains("errors") && (*json)["errors"].is_array()) {
      details.detail = details.requirements.empty() ? std::string("requirements not met")
                                                    : details.requirements.front().message;
    }
  }
  raise_typed(std::move(details));
}

}  // namespace inferencesh::detail
