// The chat contract's tool shapes (OpenAI's nested JSON for flat C++ structs) and its helpers.

#include "infsh/llm.hpp"

#include <string>
#include <utility>

#include "common/json_parse.hpp"

namespace infsh {

namespace detail {

namespace {

using nlohmann::ordered_json;

// A string member: absent or null gives `fallback`; another type is an issue.
std::string string_member(const nlohmann::json& object, const char* key, const Location& where,
                          Issues& issues, std::string fallback = {}) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_string()) {
    issues.push_back({where.child(key).path(), "expected string, got " + json_type_name(*it)});
    return fallback;
  }
  return it->get<std::string>();
}

// The object holding name/arguments (or name/description/parameters): `function` when
// present, else the value itself (a bare function object).
const nlohmann::json* function_object(const nlohmann::json& j, const Location& where,
                                      Issues& issues, Location& function_where) {
  const auto it = j.find("function");
  if (it == j.end() || it->is_null()) {
    function_where = where;
    return &j;
  }
  function_where = where.child("function");
  if (!it->is_object()) {
    issues.push_back({function_where.path(), "expected object, got " + json_type_name(*it)});
    return nullptr;
  }
  return &*it;
}

ordered_json string_property(const char* title, const char* description) {
  ordered_json p = ordered_json::object();
  if (description != nullptr) p["description"] = description;
  p["title"] = title;
  p["type"] = "string";
  return p;
}

ordered_json function_type_property() {
  return {{"default", "function"}, {"enum", {"function"}}, {"title", "Type"}, {"type", "string"}};
}

}  // namespace

ordered_json Codec<ToolCall>::schema(SchemaBuilder& builder, const Constraints*) {
  static const int function_owner = 0;
  static const int call_owner = 0;
  const std::string function_ref = builder.reference("ToolCallFunction", &function_owner, [] {
    ordered_json properties = ordered_json::object();
    properties["name"] = string_property("Name", "the tool's name");
    properties["arguments"] = string_property("Arguments", "the arguments: a JSON object, as text");
    return ordered_json{{"properties", std::move(properties)},
                        {"required", {"name", "arguments"}},
                        {"title", "ToolCallFunction"},
                        {"type", "object"}};
  });
  return {{"$ref", builder.reference("ToolCall", &call_owner, [&function_ref] {
             ordered_json properties = ordered_json::object();
             properties["id"] = string_property("Id", "the call's id, quoted by its result");
             properties["type"] = function_type_property();
             properties["function"] = {{"$ref", function_ref}};
             return ordered_json{{"description", "A tool call the model made (OpenAI's format)."},
                                 {"properties", std::move(properties)},
                                 {"required", {"id", "function"}},
                                 {"title", "ToolCall"},
                                 {"type", "object"}};
           })}};
}

ordered_json Codec<ToolCall>::encode(const ToolCall& value) {
  ordered_json function = ordered_json::object();
  function["name"] = value.name;
  function["arguments"] = value.arguments;
  ordered_json call = ordered_json::object();
  call["id"] = value.id;
  call["type"] = "function";
  call["function"] = std::move(function);
  return call;
}

void Codec<ToolCall>::decode(const nlohmann::json& j, ToolCall& out, const Location& where,
                             Issues& issues, const Constraints*) {
  if (!j.is_object()) {
    issues.push_back({where.path(), "expected object, got " + json_type_name(j)});
    return;
  }
  out.id = string_member(j, "id", where, issues);
  Location at;
  const nlohmann::json* function = function_object(j, where, issues, at);
  if (function == nullptr) return;
  const auto name = function->find("name");
  if (name == function->end() || name->is_null()) {
    issues.push_back({at.child("name").path(), "field required"});
  } else {
    out.name = string_member(*function, "name", at, issues);
  }
  const auto arguments = function->find("arguments");
  if (arguments == function->end() || arguments->is_null()) {
    out.arguments = "{}";
  } else if (arguments->is_string()) {
    out.arguments = arguments->get<std::string>();
  } else if (arguments->is_object()) {
    out.arguments = arguments->dump();  // a server that sends the object itself
  } else {
    issues.push_back({at.child("arguments").path(),
                      "expected a JSON object as text, got " + json_type_name(*arguments)});
  }
}

ordered_json Codec<Tool>::schema(SchemaBuilder& builder, const Constraints*) {
  static const int function_owner = 0;
  static const int tool_owner = 0;
  const std::string function_ref = builder.reference("ToolFunction", &function_owner, [] {
    ordered_json properties = ordered_json::object();
    properties["name"] = string_property("Name", "the tool's name");
    ordered_json description = string_property("Description", "what the tool does");
    description["default"] = "";
    properties["description"] = std::move(description);
    properties["parameters"] = {{"additionalProperties", true},
                                {"description", "the arguments' JSON Schema"},
                                {"title", "Parameters"},
                                {"type", "object"}};
    return ordered_json{{"properties", std::move(properties)},
                        {"required", {"name"}},
                        {"title", "ToolFunction"},
                        {"type", "object"}};
  });
  return {{"$ref", builder.reference("Tool", &tool_owner, [&function_ref] {
             ordered_json properties = ordered_json::object();
             properties["type"] = function_type_property();
             properties["function"] = {{"$ref", function_ref}};
             return ordered_json{
                 {"description", "A tool the model may call (OpenAI's function format)."},
                 {"properties", std::move(properties)},
                 {"required", {"function"}},
                 {"title", "Tool"},
                 {"type", "object"}};
           })}};
}

ordered_json Codec<Tool>::encode(const Tool& value) {
  ordered_json function = ordered_json::object();
  function["name"] = value.name;
  function["description"] = value.description;
  function["parameters"] = ordered_json(value.parameters);
  ordered_json tool = ordered_json::object();
  tool["type"] = "function";
  tool["function"] = std::move(function);
  return tool;
}

void Codec<Tool>::decode(const nlohmann::json& j, Tool& out, const Location& where, Issues& issues,
                         const Constraints*) {
  if (!j.is_object()) {
    issues.push_back({where.path(), "expected object, got " + json_type_name(j)});
    return;
  }
  Location at;
  const nlohmann::json* function = function_object(j, where, issues, at);
  if (function == nullptr) return;
  const auto name = function->find("name");
  if (name == function->end() || name->is_null()) {
    issues.push_back({at.child("name").path(), "field required"});
  } else {
    out.name = string_member(*function, "name", at, issues);
  }
  out.description = string_member(*function, "description", at, issues);
  const auto parameters = function->find("parameters");
  if (parameters != function->end() && !parameters->is_null()) {
    if (parameters->is_object()) {
      out.parameters = *parameters;
    } else {
      issues.push_back(
          {at.child("parameters").path(), "expected object, got " + json_type_name(*parameters)});
    }
  }
}

}  // namespace detail

void to_json(nlohmann::json& document, const ToolCall& value) {
  document = nlohmann::json(encode(value));
}
void to_json(nlohmann::ordered_json& document, const ToolCall& value) { document = encode(value); }
void from_json(const nlohmann::json& document, ToolCall& value) {
  value = decode<ToolCall>(document, "value");
}
void to_json(nlohmann::json& document, const Tool& value) {
  document = nlohmann::json(encode(value));
}
void to_json(nlohmann::ordered_json& document, const Tool& value) { document = encode(value); }
void from_json(const nlohmann::json& document, Tool& value) {
  value = decode<Tool>(document, "value");
}

std::vector<ContextMessage> conversation(const LLMInput& input) {
  std::vector<ContextMessage> messages = input.context;
  const bool has_files =
      (input.images && !input.images->empty()) || (input.files && !input.files->empty());
  if (!input.text.empty() || has_files || input.role == ContextMessageRole::tool) {
    ContextMessage latest;
    latest.role = input.role;
    latest.text = input.text;
    latest.images = input.images;
    latest.files = input.files;
    latest.tool_call_id = input.tool_call_id;
    messages.push_back(std::move(latest));
  }
  return messages;
}

nlohmann::json parse_arguments(const ToolCall& call) {
  const std::string where = "tool call " + (call.id.empty() ? call.name : call.id) + " arguments";
  inferencesh::common::JsonParseError error;
  auto parsed = inferencesh::common::parse_untrusted_json(call.arguments, &error);
  if (!parsed) throw ValidationError({{where, "not valid JSON (" + error.message + ")"}});
  nlohmann::json value = std::move(*parsed);
  if (!value.is_object()) {
    throw ValidationError(
        {{where, "expected a JSON object, got " + detail::json_type_name(value)}});
  }
  return value;
}

}  // namespace infsh
