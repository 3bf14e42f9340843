#include "chats/agent_config.hpp"

#include <algorithm>
#include <set>

#include "http/api_envelope.hpp"

namespace infsh::local {

using nlohmann::json;

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& message) {
  throw ApiProblem(422, "field '" + field + "' " + message);
}

void expect(const json& value, const std::string& field, bool ok, const char* expected) {
  if (!ok) invalid(field, std::string("must be ") + expected + ", not " + value.type_name());
}

const json* present(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

bool valid_tool_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

bool valid_ref(const std::string& ref) {
  const auto slash = ref.find('/');
  return slash != std::string::npos && slash > 0 && slash + 1 < ref.size() &&
         ref.find(' ') == std::string::npos;
}

void check_string(const json& object, const char* key, const std::string& field,
                  bool required = false) {
  const json* value = present(object, key);
  if (value == nullptr) {
    if (required) invalid(field + "." + key, "is required");
    return;
  }
  expect(*value, field + "." + key, value->is_string(), "a string");
  if (required && value->get_ref<const std::string&>().empty()) {
    invalid(field + "." + key, "must not be empty");
  }
}

void check_object(const json& object, const char* key, const std::string& field) {
  if (const json* value = present(object, key)) {
    expect(*value, field + "." + key, value->is_object(), "an object");
  }
}

void check_tool(const json& tool, const std::string& field) {
  expect(tool, field, tool.is_object(), "an AgentTool object");
  check_string(tool, "name", field, true);
  const auto& name = tool.at("name").get_ref<const std::string&>();
  if (!valid_tool_name(name)) {
    invalid(
        field + ".name",
        "must be 1 to 64 letters, digits, '_' or '-' (a function name the LLM can call), not \"" +
            name.substr(0, 100) + "\"");
  }
  check_string(tool, "display_name", field);
  check_string(tool, "description", field);
  if (const json* approval = present(tool, "require_approval")) {
    expect(*approval, field + ".require_approval", approval->is_boolean(), "a boolean");
  }
  check_string(tool, "type", field, true);
  const auto& type = tool.at("type").get_ref<const std::string&>();
  if (std::find(kToolTypes.begin(), kToolTypes.end(), type) == kToolTypes.end()) {
    invalid(field + ".type",
            "must be one of client, app, agent, hook, http, mcp, internal, not \"" +
                type.substr(0, 100) + "\"");
  }
  const json* config = present(tool, type.c_str());
  const std::string where = field + "." + type;
  if (type == "client" || type == "internal") {
    if (config != nullptr) expect(*config, where, config->is_object(), "an object");
    if (config != nullptr) check_object(*config, "input_schema", where);
    return;
  }
  if (config == nullptr) invalid(where, "is required for a tool of type " + type);
  expect(*config, where, config->is_object(), "an object");
  if (type == "app" || type == "agent") {
    check_string(*config, "ref", where, true);
    if (!valid_ref(config->at("ref").get<std::string>())) {
      invalid(where + ".ref", "must be a reference like \"namespace/name[@version]\"");
    }
    if (type == "app") {
      check_string(*config, "function", where);
      check_object(*config, "input", where);
      if (const json* session = present(*config, "session_enabled")) {
        expect(*session, where + ".session_enabled", session->is_boolean(), "a boolean");
      }
    }
  } else if (type == "hook" || type == "http") {
    check_string(*config, "url", where, true);
    const auto& url = config->at("url").get_ref<const std::string&>();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      invalid(where + ".url", "must be an http or https URL");
    }
    check_object(*config, "input_schema", where);
    if (type == "http") {
      check_string(*config, "method", where);
      if (const json* headers = present(*config, "headers")) {
        expect(*headers, where + ".headers", headers->is_object(), "an object");
        const std::string header_field = where + ".headers.";
        for (const auto& [key, value] : headers->items()) {
          expect(value, header_field + key, value.is_string(), "a string");
        }
      }
      check_object(*config, "auth", where);
    } else {
      check_string(*config, "secret", where);
    }
  } else if (type == "mcp") {
    check_string(*config, "integration_id", where);
    check_string(*config, "tool_name", where);
  }
}

json object_schema(json properties, json required) {
  return {
      {"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

json function_tool(const std::string& name, const std::string& description, json parameters) {
  return {{"type", "function"},
          {"function",
           {{"name", name}, {"description", description}, {"parameters", std::move(parameters)}}}};
}

std::string text_or(const json& object, const char* key, std::string fallback = {}) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::move(fallback);
}

// What the core is told it may pass to a tool.
json tool_parameters(const json& tool) {
  const std::string type = text_or(tool, "type");
  const json config =
      tool.contains(type) && tool.at(type).is_object() ? tool.at(type) : json::object();
  if (const auto schema = config.find("input_schema");
      schema != config.end() && schema->is_object()) {
    json parameters = *schema;
    parameters.erase("optional");
    return parameters;
  }
  if (type == "agent") {
    return object_schema(
        {{"message", {{"type", "string"}, {"description", "what to ask the agent"}}}}, {"message"});
  }
  json parameters = {{"type", "object"}, {"properties", json::object()}};
  if (type == "app" && config.value("session_enabled", false)) {
    parameters["properties"]["session"] = {
        {"type", "string"},
        {"description", "\"new\" to start a session, or a session_id from an earlier result"}};
  }
  return parameters;
}

}  // namespace

json checked_agent_config(const json& config, const std::string& field, bool require_core) {
  expect(config, field, config.is_object(), "an AgentConfig object");
  json checked = json::object();
  for (const auto& [key, value] : config.items()) {
    if (!value.is_null()) checked[key] = value;
  }
  for (const char* key : {"name", "description", "system_prompt"}) {
    check_string(checked, key, field);
  }
  if (const json* prompts = present(checked, "example_prompts")) {
    expect(*prompts, field + ".example_prompts", prompts->is_array(), "an array of strings");
    for (std::size_t i = 0; i < prompts->size(); ++i) {
      expect((*prompts)[i], field + ".example_prompts[" + std::to_string(i) + "]",
             (*prompts)[i].is_string(), "a string");
    }
  }
  json* core = checked.contains("core_app") ? &checked["core_app"] : nullptr;
  if (core != nullptr && core->is_string())
    *core = json{{"ref", *core}};  // the Python README's form
  if (core == nullptr) {
    if (require_core)
      invalid(field + ".core_app", R"(is required (e.g. {"ref": "infsh/scripted-llm"}))");
  } else {
    expect(*core, field + ".core_app", core->is_object(), "an object");
    check_string(*core, "ref", field + ".core_app", require_core);
    if (const json* ref = present(*core, "ref");
        ref != nullptr && !valid_ref(ref->get<std::string>())) {
      invalid(field + ".core_app.ref",
              "must be an app reference like \"namespace/name[@version]\"");
    }
    check_object(*core, "input", field + ".core_app");
  }
  if (const json* tools = present(checked, "tools")) {
    expect(*tools, field + ".tools", tools->is_array(), "an array of AgentTool objects");
    json kept = json::array();
    std::set<std::string> names;
    for (std::size_t i = 0; i < tools->size(); ++i) {
      const json& tool = (*tools)[i];
      if (tool.is_null()) continue;
      const std::string where = field + ".tools[" + std::to_string(i) + "]";
      check_tool(tool, where);
      const std::string name = tool.at("name").get<std::string>();
      if (!names.insert(name).second)
        invalid(where + ".name", "repeats the tool name \"" + name + "\"");
      if (!internal_tool_group(name).empty() && tool.value("type", "") != "internal") {
        invalid(where + ".name", "\"" + name + "\" is the name of an internal tool");
      }
      kept.push_back(tool);
    }
    checked["tools"] = std::move(kept);
  }
  if (const json* internal = present(checked, "internal_tools")) {
    expect(*internal, field + ".internal_tools", internal->is_object(), "an object of booleans");
    const std::string internal_field = field + ".internal_tools.";
    for (const auto& [key, value] : internal->items()) {
      expect(value, internal_field + key, value.is_boolean() || value.is_null(), "a boolean");
    }
  }
  check_object(checked, "output_schema", field);
  for (const char* key : {"skills", "context", "hooks"}) {
    if (const json* list = present(checked, key)) {
      expect(*list, field + "." + key, list->is_array(), "an array");
    }
  }
  return checked;
}

bool internal_tool_enabled(const json& config, std::string_view group) {
  const auto internal = config.find("internal_tools");
  if (internal == config.end() || !internal->is_object()) return false;
  const auto flag = internal->find(std::string(group));
  return flag != internal->end() && flag->is_boolean() && flag->get<bool>();
}

std::string internal_tool_group(std::string_view function_name) {
  if (function_name == "plan_create" || function_name == "plan_update") return "plan";
  if (function_name == "memory_set" || function_name == "memory_get") return "memory";
  if (function_name == "finish") return "finish";
  return {};
}

const json* find_tool(const json& config, std::string_view name) {
  const auto tools = config.find("tools");
  if (tools == config.end() || !tools->is_array()) return nullptr;
  for (const json& tool : *tools) {
    if (tool.is_object() && text_or(tool, "name") == name) return &tool;
  }
  return nullptr;
}

json core_tools(const json& config) {
  json tools = json::array();
  if (const auto list = config.find("tools"); list != config.end() && list->is_array()) {
    for (const json& tool : *list) {
      if (!tool.is_object() || text_or(tool, "type") == "internal") continue;
      tools.push_back(function_tool(text_or(tool, "name"), text_or(tool, "description"),
                                    tool_parameters(tool)));
    }
  }
  if (internal_tool_enabled(config, "plan")) {
    const json step = object_schema(
        {{"title", {{"type", "string"}}}, {"description", {{"type", "string"}}}}, {"title"});
    tools.push_back(function_tool(
        "plan_create", "Write down the plan for this task as steps (replaces any earlier plan).",
        object_schema({{"steps", {{"type", "array"}, {"items", step}}}}, {"steps"})));
    tools.push_back(function_tool(
        "plan_update", "Change the status of a plan step, with notes.",
        object_schema(
            {{"index", {{"type", "integer"}}},
             {"status",
              {{"type", "string"}, {"enum", {"pending", "in_progress", "completed", "cancelled"}}}},
             {"notes", {{"type", "string"}}}},
            {"index", "status"})));
  }
  if (internal_tool_enabled(config, "memory")) {
    tools.push_back(function_tool(
        "memory_set", "Remember a value under a key for the rest of this chat.",
        object_schema({{"key", {{"type", "string"}}}, {"value", {{"type", "string"}}}},
                      {"key", "value"})));
    tools.push_back(function_tool("memory_get", "Recall the value remembered under a key.",
                                  object_schema({{"key", {{"type", "string"}}}}, {"key"})));
  }
  if (internal_tool_enabled(config, "finish")) {
    const auto schema = config.find("output_schema");
    json parameters = schema != config.end() && schema->is_object()
                          ? *schema
                          : json{{"type", "object"}, {"properties", json::object()}};
    tools.push_back(function_tool(
        "finish", "Finish the task and hand over its result, shaped as the parameters say.",
        std::move(parameters)));
  }
  return tools;
}

json internal_tools_catalog() {
  return json::array(
      {{{"id", "plan"},
        {"name", "Plan"},
        {"description",
         "Lets the agent write a plan as steps and track them (agent_data.plan_steps)."},
        {"tools", {"plan_create", "plan_update"}},
        {"scope", "agent"},
        {"default_enabled", false}},
       {{"id", "memory"},
        {"name", "Memory"},
        {"description",
         "Lets the agent remember values for the rest of the chat (agent_data.memory)."},
        {"tools", {"memory_set", "memory_get"}},
        {"scope", "agent"},
        {"default_enabled", false}},
       {{"id", "finish"},
        {"name", "Finish"},
        {"description",
         "Lets the agent end its task with a result shaped by output_schema (the chat's output)."},
        {"tools", {"finish"}},
        {"scope", "agent"},
        {"default_enabled", false}}});
}

}  // namespace infsh::local
