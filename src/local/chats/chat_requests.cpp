#include "chats/chat_requests.hpp"

#include <charconv>

#include "chats/agent_config.hpp"
#include "common/media_types.hpp"
#include "http/api_envelope.hpp"
#include "http/http_message.hpp"
#include "http/json_body.hpp"

namespace infsh::local {

using nlohmann::json;

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& message) {
  throw ApiProblem(422, "field '" + field + "' " + message);
}

json object_body(std::string_view text) {
  json body = parse_json_body(text);
  if (!body.is_object()) {
    throw ApiProblem(400,
                     std::string("request body must be a JSON object, not ") + body.type_name());
  }
  return body;
}

// The value of `key` if present and not null.
const json* field(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> optional_string(const json& object, const char* key,
                                           const std::string& path) {
  const json* value = field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    invalid(path + key, std::string("must be a string, not ") + value->type_name());
  }
  return value->get<std::string>();
}

std::string string_or_empty(const json& object, const char* key, const std::string& path) {
  return optional_string(object, key, path).value_or("");
}

// A uri a client may hand over: http(s) or data. A local path or file: URI would let a client
// make an app open a file of this machine.
void check_uri(const std::string& uri, const std::string& path) {
  if (uri.rfind("https://", 0) == 0 || uri.rfind("http://", 0) == 0 || uri.rfind("data:", 0) == 0) {
    return;
  }
  invalid(path,
          "must be an http(s) or data: URI (upload local files with POST /files first), "
          "not \"" +
              uri.substr(0, 100) + "\"");
}

std::string media_type_of(const std::string& uri) {
  if (uri.rfind("data:", 0) == 0) {
    const auto end = uri.find_first_of(";,", 5);
    return end == std::string::npos ? std::string() : uri.substr(5, end - 5);
  }
  const std::string path = uri.substr(0, uri.find_first_of("?#"));
  return inferencesh::common::media_type_for_file_name(path.substr(path.rfind('/') + 1));
}

json file_ref(const json& item, const std::string& path) {
  if (!item.is_object())
    invalid(path, std::string("must be a FileRef object, not ") + item.type_name());
  const std::string uri = string_or_empty(item, "uri", path + ".");
  if (uri.empty()) invalid(path + ".uri", "is required");
  check_uri(uri, path + ".uri");
  json ref = {{"uri", uri}};
  for (const char* key : {"id", "filename", "content_type"}) {
    if (auto value = optional_string(item, key, path + ".")) ref[key] = *value;
  }
  if (const json* size = field(item, "size")) {
    if (!size->is_number_integer()) invalid(path + ".size", "must be an integer");
    ref["size"] = *size;
  }
  if (!ref.contains("content_type") || ref["content_type"].get<std::string>().empty()) {
    ref["content_type"] = media_type_of(uri);
  }
  return ref;
}

// The JS headless client's `images` / `files`: URIs.
void add_uris(const json& input, const char* key, const std::string& path, bool images,
              json& attachments) {
  const json* list = field(input, key);
  if (list == nullptr) return;
  if (!list->is_array()) invalid(path + key, "must be an array of URIs");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string where = path + key + "[" + std::to_string(i) + "]";
    const json& item = (*list)[i];
    if (item.is_object()) {
      attachments.push_back(file_ref(item, where));
      continue;
    }
    if (!item.is_string())
      invalid(where, std::string("must be a URI string, not ") + item.type_name());
    const std::string uri = item.get<std::string>();
    check_uri(uri, where);
    std::string type = media_type_of(uri);
    if (images && type.rfind("image/", 0) != 0) type = "image/*";
    if (!images && type.empty()) type = "application/octet-stream";
    attachments.push_back({{"uri", uri}, {"content_type", type}});
  }
}

TurnInput turn_input(const json& input, const std::string& path) {
  if (!input.is_object())
    invalid(path.substr(0, path.size() - 1),
            std::string("must be an object, not ") + input.type_name());
  TurnInput turn;
  turn.text = string_or_empty(input, "text", path);
  if (const json* attachments = field(input, "attachments")) {
    if (!attachments->is_array())
      invalid(path + "attachments", "must be an array of FileRef objects");
    for (std::size_t i = 0; i < attachments->size(); ++i) {
      turn.attachments.push_back(
          file_ref((*attachments)[i], path + "attachments[" + std::to_string(i) + "]"));
    }
  }
  add_uris(input, "images", path, true, turn.attachments);
  add_uris(input, "files", path, false, turn.attachments);
  if (const auto role = optional_string(input, "role", path); role && *role != "user") {
    invalid(path + "role", R"(must be "user" (the runtime answers as the assistant), not ")" +
                               role->substr(0, 50) + "\"");
  }
  return turn;
}

json context_map(const json& body, const char* key) {
  const json* context = field(body, key);
  if (context == nullptr) return json::object();
  if (!context->is_object()) {
    invalid(key, std::string("must be an object of strings, not ") + context->type_name());
  }
  return *context;
}

std::size_t limit_of(const json* value, const std::string& name, std::size_t fallback) {
  if (value == nullptr) return fallback;
  if (!value->is_number_integer() || value->get<std::int64_t>() < 1 ||
      value->get<std::int64_t>() > 200) {
    invalid(name, "must be an integer from 1 to 200, not " + value->dump());
  }
  return value->get<std::size_t>();
}

std::optional<std::int64_t> cursor_of(const std::string& text, const std::string& name) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    invalid(name, "must be a next_cursor from a previous page, not \"" + text.substr(0, 50) + "\"");
  }
  return value;
}

}  // namespace

AgentRunRequest parse_agent_run_request(std::string_view text) {
  const json body = object_body(text);
  AgentRunRequest request;
  if (auto chat = optional_string(body, "chat_id", ""); chat && !chat->empty()) {
    request.chat_id = std::move(chat);
  }
  if (auto agent = optional_string(body, "agent", ""); agent && !agent->empty()) {
    request.agent = std::move(agent);
  }
  if (const json* config = field(body, "agent_config")) {
    request.agent_config = checked_agent_config(*config, "agent_config", true);
  }
  if (request.agent && request.agent_config) {
    invalid("agent", "and 'agent_config' cannot both be given: name a template, or send a config");
  }
  if (!request.chat_id && !request.agent && !request.agent_config) {
    invalid("agent",
            "is required for a new chat (a template \"namespace/name@version\"), or "
            "'agent_config' (an ad-hoc agent), or 'chat_id' to continue a chat");
  }
  request.agent_name = string_or_empty(body, "agent_name", "");
  if (request.agent_name.empty() && request.agent_config) {
    request.agent_name = request.agent_config->value("name", "");
  }
  const json* input = field(body, "input");
  if (input == nullptr) invalid("input", R"(is required (e.g. {"text": "Hello"}))");
  request.input = turn_input(*input, "input.");
  request.context = context_map(body, "context");
  if (const json* stream = field(body, "stream");
      stream != nullptr && stream->is_boolean() && stream->get<bool>()) {
    invalid("stream", "true is not supported; follow the chat with GET /chats/{id}/stream");
  }
  return request;
}

CreateChatRequest parse_create_chat_request(std::string_view text) {
  const json body = object_body(text);
  CreateChatRequest request;
  request.agent = string_or_empty(body, "agent", "");
  if (request.agent.empty()) {
    invalid("agent",
            "is required (a template \"namespace/name@version\", or a core app's reference)");
  }
  request.context = context_map(body, "context");
  request.name = string_or_empty(body, "name", "");
  return request;
}

TurnInput parse_chat_message_request(std::string_view text) {
  const json body = object_body(text);
  if (const json* input = field(body, "input")) return turn_input(*input, "input.");
  if (const json* message = field(body, "message")) {
    if (message->is_object()) return turn_input(*message, "message.");
    if (!message->is_string()) {
      invalid("message", std::string("must be a string, not ") + message->type_name());
    }
    TurnInput turn = turn_input(body, "");  // attachments beside the message
    turn.text = message->get<std::string>();
    return turn;
  }
  if (field(body, "text") != nullptr) return turn_input(body, "");
  invalid("message", "is required (the text to send)");
}

ChatUpdateRequest parse_chat_update_request(std::string_view text) {
  const json body = object_body(text);
  ChatUpdateRequest request;
  request.name = optional_string(body, "name", "");
  request.description = optional_string(body, "description", "");
  if (!request.name && !request.description) {
    invalid("name", "or 'description' is required (the fields a chat update can change)");
  }
  return request;
}

std::string parse_tool_result_request(std::string_view text) {
  const json body = object_body(text);
  if (const auto it = body.find("result"); it != body.end()) {
    if (it->is_string()) return it->get<std::string>();
    if (it->is_null()) invalid("result", "must be a string (the tool's result), not null");
    return it->dump();
  }
  if (body.contains("action") || body.contains("form_data")) return body.dump();
  invalid("result",
          "is required: {\"result\": \"...\"}, or the widget action object "
          "{\"action\": ..., \"form_data\": ...}");
}

std::string parse_reject_request(std::string_view text) {
  const json body = object_body(text);
  return string_or_empty(body, "reason", "");
}

std::string parse_always_allow_request(std::string_view text) {
  const json body = object_body(text);
  return string_or_empty(body, "tool_name", "");
}

ListRequest parse_list_request(std::string_view text) {
  const json body = object_body(text);
  ListRequest request;
  if (const json* cursor = field(body, "cursor")) {
    if (cursor->is_string()) {
      request.cursor = cursor_of(cursor->get<std::string>(), "cursor");
    } else if (cursor->is_number_integer()) {
      request.cursor = cursor->get<std::int64_t>();
    } else {
      invalid("cursor", std::string("must be a string, not ") + cursor->type_name());
    }
  }
  request.limit = limit_of(field(body, "limit"), "limit", 25);
  if (const json* search = field(body, "search")) {
    if (!search->is_object()) invalid("search", "must be an object {term, fields?, exact?}");
    request.search = string_or_empty(*search, "term", "search.");
  }
  if (const json* filters = field(body, "filters")) {
    if (!filters->is_array()) invalid("filters", "must be an array of {field, operator, value}");
    for (std::size_t i = 0; i < filters->size(); ++i) {
      const std::string path = "filters[" + std::to_string(i) + "].";
      const json& filter = (*filters)[i];
      if (!filter.is_object()) invalid(path.substr(0, path.size() - 1), "must be an object");
      const std::string name = string_or_empty(filter, "field", path);
      const std::string op = string_or_empty(filter, "operator", path);
      const json* value = field(filter, "value");
      if (name == "status" && op == "eq" && value != nullptr && value->is_string()) {
        request.status = value->get<std::string>();
      } else if (name == "parent_id" && op == "is_null") {
        request.parent_id = "";
      } else if (name == "parent_id" && op == "eq" && value != nullptr && value->is_string()) {
        request.parent_id = value->get<std::string>();
      } else {
        invalid(path + "field", "\"" + name.substr(0, 50) + "\" with operator \"" +
                                    op.substr(0, 20) +
                                    "\" is not a filter infsh-local knows (status eq, parent_id eq "
                                    "or is_null)");
      }
    }
  }
  return request;
}

CreateAgentRequest parse_create_agent_request(std::string_view text) {
  const json body = object_body(text);
  CreateAgentRequest request;
  request.id = string_or_empty(body, "id", "");
  request.name = string_or_empty(body, "name", "");
  if (const auto ns = optional_string(body, "namespace", ""); ns && !ns->empty()) {
    request.namespace_name = *ns;
  }
  for (const std::string* part : {&request.name, &request.namespace_name}) {
    const bool ok = std::all_of(part->begin(), part->end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    });
    if (!ok) {
      invalid(
          part == &request.name ? "name" : "namespace",
          "may hold only letters, digits, '-', '_' and '.', not \"" + part->substr(0, 50) + "\"");
    }
  }
  if (request.name.empty() && request.id.empty()) invalid("name", "is required");
  if (const json* images = field(body, "images")) {
    if (!images->is_object()) invalid("images", "must be an object {card, thumbnail, banner}");
    request.images = *images;
  }
  if (const json* version = field(body, "version")) {
    request.config = checked_agent_config(*version, "version", true);
  } else {
    json config = body;
    for (const char* key : {"id", "namespace", "images", "version", "name"}) config.erase(key);
    request.config = checked_agent_config(config, "version", true);
  }
  return request;
}

MessagePageQuery parse_message_page_query(std::string_view query) {
  MessagePageQuery page;
  if (const auto limit = query_parameter(query, "limit")) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (error != std::errc() || end != limit->data() + limit->size() || value < 1 || value > 200) {
      invalid("limit", "must be an integer from 1 to 200, not \"" + limit->substr(0, 20) + "\"");
    }
    page.limit = static_cast<std::size_t>(value);
  }
  if (const auto cursor = query_parameter(query, "cursor")) {
    page.cursor = cursor_of(*cursor, "cursor");
  }
  return page;
}

}  // namespace infsh::local
