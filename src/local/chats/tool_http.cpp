#include "chats/tool_http.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

#include "support/secrets.hpp"

namespace infsh::local {

using nlohmann::json;

namespace {

std::string percent_encode(const std::string& text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4U];
      out += kHex[c & 0xFU];
    }
  }
  return out;
}

std::string trim(std::string text) {
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && blank(static_cast<unsigned char>(text.front()))) text.erase(0, 1);
  while (!text.empty() && blank(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string secret_or_throw(const std::string& name, const SecretValue& secret,
                            std::vector<std::string>& used) {
  std::optional<std::string> value;
  if (secret) value = secret(name);
  if (!value) {
    throw ToolRequestError("the secret " + name + " is not set: " + Secrets::how_to_set(name));
  }
  if (!value->empty()) used.push_back(*value);
  return *value;
}

// Replaces ${{ secrets.NAME }} and {{ context.KEY }} (spaces optional) in `text`.
std::string fill(const std::string& text, const json& context, const SecretValue& secret,
                 std::vector<std::string>& used, bool url) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    if (open == std::string::npos) break;
    const auto close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    const bool dollar = open > 0 && text[open - 1] == '$';
    const std::string expression = trim(text.substr(open + 2, close - open - 2));
    std::string value;
    bool known = true;
    if (dollar && expression.rfind("secrets.", 0) == 0) {
      value = secret_or_throw(expression.substr(8), secret, used);
    } else if (!dollar && expression.rfind("context.", 0) == 0) {
      const std::string key = expression.substr(8);
      const auto it = context.is_object() ? context.find(key) : context.end();
      if (!context.is_object() || it == context.end()) {
        throw ToolRequestError("the chat's context has no '" + key +
                               "' (send it in the run's "
                               "context map)");
      }
      value = it->is_string() ? it->get<std::string>() : it->dump();
    } else {
      known = false;
    }
    const std::size_t start = dollar && known ? open - 1 : open;
    out.append(text, pos, start - pos);
    if (known) {
      out += url ? percent_encode(value) : value;
    } else {
      out.append(text, open, close + 2 - open);
    }
    pos = close + 2;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::string text_of(const json& object, const char* key, std::string fallback = {}) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::move(fallback);
}

}  // namespace

ToolRequest http_tool_request(const json& http, const json& arguments, const json& context,
                              const SecretValue& secret) {
  ToolRequest out;
  auto& request = out.request;
  request.method = text_of(http, "method", "POST");
  if (request.method.empty()) request.method = "POST";
  std::transform(request.method.begin(), request.method.end(), request.method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  request.url = fill(text_of(http, "url"), context, secret, out.secrets, true);
  if (const auto headers = http.find("headers"); headers != http.end() && headers->is_object()) {
    for (const auto& [name, value] : headers->items()) {
      if (!value.is_string()) continue;
      request.headers.emplace_back(
          name, fill(value.get<std::string>(), context, secret, out.secrets, false));
    }
  }
  if (const auto auth = http.find("auth"); auth != http.end() && auth->is_object()) {
    const std::string type = text_of(*auth, "type");
    if (type == "bearer") {
      request.headers.emplace_back(
          "Authorization",
          "Bearer " + secret_or_throw(text_of(*auth, "secret"), secret, out.secrets));
    } else if (type == "api_key") {
      request.headers.emplace_back(text_of(*auth, "header", "X-API-Key"),
                                   secret_or_throw(text_of(*auth, "secret"), secret, out.secrets));
    } else if (type == "integration") {
      throw ToolRequestError("integration auth ('" + text_of(*auth, "provider") +
                             "') is not available in infsh-local; use api_key or bearer with a "
                             "--secret");
    }
  }
  const json args = arguments.is_object() ? arguments : json::object();
  if (request.method == "GET" || request.method == "HEAD" || request.method == "DELETE") {
    std::string query;
    for (const auto& [key, value] : args.items()) {
      query += (query.empty() ? "" : "&") + percent_encode(key) + "=" +
               percent_encode(value.is_string() ? value.get<std::string>() : value.dump());
    }
    if (!query.empty()) {
      request.url += (request.url.find('?') == std::string::npos ? "?" : "&") + query;
    }
  } else {
    request.body = args.dump();
    request.headers.emplace_back("Content-Type", "application/json");
  }
  request.headers.emplace_back("Accept", "application/json, text/plain, */*");
  return out;
}

ToolRequest hook_tool_request(const json& hook, const std::string& invocation_id,
                              const std::string& hook_name, const std::string& callback_url,
                              const std::string& timestamp, const json& arguments,
                              const SecretValue& secret) {
  ToolRequest out;
  auto& request = out.request;
  request.method = "POST";
  request.url = fill(text_of(hook, "url"), json::object(), secret, out.secrets, true);
  request.body = json{{"tool_invocation_id", invocation_id},
                      {"hook_name", hook_name},
                      {"callback_url", callback_url},
                      {"callback_method", "POST"},
                      {"timestamp", timestamp},
                      {"arguments", arguments.is_object() ? arguments : json::object()}}
                     .dump();
  request.headers.emplace_back("Content-Type", "application/json");
  if (const std::string name = text_of(hook, "secret"); !name.empty()) {
    request.headers.emplace_back("X-Hook-Secret", secret_or_throw(name, secret, out.secrets));
  }
  return out;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[secret]");
      at += 8;
    }
  }
  return text;
}

}  // namespace infsh::local
