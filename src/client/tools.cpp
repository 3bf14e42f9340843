#include "inferencesh/tools.hpp"

namespace inferencesh {
namespace {

using nlohmann::json;

Schema typed(const char* type, const std::string& description) {
  Schema schema;
  schema.json["type"] = type;
  if (!description.empty()) schema.json["description"] = description;
  return schema;
}

// Brings a hand-written schema to the helpers' form: no `optional` keys anywhere, nested
// objects with a `required` of their non-optional properties (when they have none), array
// items treated the same way. Returns whether the schema itself was marked optional.
bool normalise(json& schema) {
  if (!schema.is_object()) return false;
  bool is_optional = false;
  if (auto it = schema.find("optional"); it != schema.end()) {
    is_optional = it->is_boolean() && it->get<bool>();
    schema.erase(it);
  }
  if (auto properties = schema.find("properties");
      properties != schema.end() && properties->is_object()) {
    json required = json::array();
    for (const auto& [name, property] : properties->items()) {
      if (!normalise(property)) required.push_back(name);
    }
    if (!schema.contains("required") && !required.empty()) schema["required"] = required;
  }
  if (auto items = schema.find("items"); items != schema.end()) normalise(*items);
  return is_optional;
}

json properties_and_required(const std::vector<Param>& params, json& required) {
  json properties = json::object();
  for (const auto& [name, schema] : params) {
    properties[name] = schema.json;
    if (!schema.is_optional) required.push_back(name);
  }
  return properties;
}

}  // namespace

Schema::Schema(nlohmann::json schema) : json(std::move(schema)) { is_optional = normalise(json); }

Schema string(const std::string& description) { return typed("string", description); }
Schema number(const std::string& description) { return typed("number", description); }
Schema integer(const std::string& description) { return typed("integer", description); }
Schema boolean(const std::string& description) { return typed("boolean", description); }

Schema enum_of(const std::vector<std::string>& values, const std::string& description) {
  Schema schema = typed("string", description);
  schema.json["enum"] = values;
  return schema;
}

Schema array(const Schema& items, const std::string& description) {
  Schema schema = typed("array", description);
  schema.json["items"] = items.json;
  return schema;
}

Schema object(const std::vector<Param>& properties, const std::string& description) {
  Schema schema = typed("object", description);
  json required = json::array();
  schema.json["properties"] = properties_and_required(properties, required);
  if (!required.empty()) schema.json["required"] = std::move(required);
  return schema;
}

Schema optional(Schema schema) {
  schema.is_optional = true;
  return schema;
}

std::string Tool::name() const {
  const auto it = schema.find("name");
  return it != schema.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ToolBuilderBase::ToolBuilderBase(std::string name, std::string type)
    : name_(std::move(name)), type_(std::move(type)) {}

json ToolBuilderBase::input_schema() const {
  json required = json::array();
  json properties = properties_and_required(params_, required);
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", required}};
}

json ToolBuilderBase::make_json(json type_object) const {
  json tool = {{"name", name_},
               {"display_name", display_name_.empty() ? name_ : display_name_},
               {"description", description_},
               {"type", type_}};
  if (require_approval_) tool["require_approval"] = true;
  tool[type_] = std::move(type_object);
  return tool;
}

ClientToolBuilder::ClientToolBuilder(std::string name) : ToolBuilder(std::move(name), "client") {}

json ClientToolBuilder::type_object() const { return {{"input_schema", input_schema()}}; }

AppToolBuilder::AppToolBuilder(std::string name, std::string app_ref)
    : ToolBuilder(std::move(name), "app"), ref_(std::move(app_ref)) {}

AppToolBuilder& AppToolBuilder::function(std::string name) {
  function_ = std::move(name);
  return *this;
}
AppToolBuilder& AppToolBuilder::setup(json values) {
  setup_ = std::move(values);
  return *this;
}
AppToolBuilder& AppToolBuilder::input(json values) {
  input_ = std::move(values);
  return *this;
}
AppToolBuilder& AppToolBuilder::session_enabled(bool enabled) {
  session_enabled_ = enabled;
  return *this;
}

json AppToolBuilder::type_object() const {
  json app = {{"ref", ref_}};
  if (!function_.empty()) app["function"] = function_;
  if (session_enabled_) app["session_enabled"] = true;
  if (!setup_.is_null()) app["setup"] = setup_;
  if (!input_.is_null()) app["input"] = input_;
  return app;
}

AgentToolBuilder::AgentToolBuilder(std::string name, std::string agent_ref)
    : ToolBuilder(std::move(name), "agent"), ref_(std::move(agent_ref)) {}

json AgentToolBuilder::type_object() const { return {{"ref", ref_}}; }

WebhookToolBuilder::WebhookToolBuilder(std::string name, std::string url)
    : ToolBuilder(std::move(name), "hook"), url_(std::move(url)) {}

WebhookToolBuilder& WebhookToolBuilder::secret(std::string name) {
  secret_ = std::move(name);
  return *this;
}

json WebhookToolBuilder::type_object() const {
  json hook = {{"url", url_}, {"input_schema", input_schema()}};
  if (!secret_.empty()) hook["secret"] = secret_;
  return hook;
}

HttpToolBuilder::HttpToolBuilder(std::string name, std::string url)
    : ToolBuilder(std::move(name), "http"), url_(std::move(url)) {}

HttpToolBuilder& HttpToolBuilder::method(std::string method) {
  method_ = std::move(method);
  return *this;
}
HttpToolBuilder& HttpToolBuilder::header(std::string name, std::string value) {
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}
HttpToolBuilder& HttpToolBuilder::integration(std::string provider, std::string integration_id) {
  json auth = {{"type", "integration"}, {"provider", std::move(provider)}};
  if (!integration_id.empty()) auth["integration_id"] = std::move(integration_id);
  auth_ = std::move(auth);
  return *this;
}
HttpToolBuilder& HttpToolBuilder::api_key(std::string secret, std::string header) {
  auth_ = {{"type", "api_key"}, {"secret", std::move(secret)}, {"header", std::move(header)}};
  return *this;
}
HttpToolBuilder& HttpToolBuilder::bearer(std::string secret) {
  auth_ = {{"type", "bearer"}, {"secret", std::move(secret)}};
  return *this;
}
HttpToolBuilder& HttpToolBuilder::auth(json config) {
  auth_ = std::move(config);
  return *this;
}

json HttpToolBuilder::type_object() const {
  json http = {{"url", url_}, {"input_schema", input_schema()}};
  if (method_ != "POST") http["method"] = method_;
  if (!auth_.is_null()) http["auth"] = auth_;
  if (!headers_.empty()) {
    json headers = json::object();
    for (const auto& [name, value] : headers_) headers[name] = value;
    http["headers"] = std::move(headers);
  }
  return http;
}

McpToolBuilder::McpToolBuilder(std::string name, std::string integration_id, std::string tool_name)
    : ToolBuilder(std::move(name), "mcp"),
      integration_id_(std::move(integration_id)),
      tool_name_(std::move(tool_name)) {}

json McpToolBuilder::type_object() const {
  return {{"integration_id", integration_id_}, {"tool_name", tool_name_}};
}

json InternalTools::build() const {
  json flags = json::object();
  for (const auto& [name, enabled] : flags_) flags[name] = enabled;
  return flags;
}

}  // namespace inferencesh
