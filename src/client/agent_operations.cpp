#include "agent_operations.hpp"

#include "common/json_fields.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

using nlohmann::json;

ApiCall post(std::string path, std::optional<json> body = std::nullopt) {
  ApiCall call;
  call.method = "POST";
  call.path = std::move(path);
  call.body = std::move(body);
  return call;
}

std::string segment(std::string_view id, const char* what) {
  if (id.empty()) throw InvalidArgumentError(std::string(what) + " must not be empty");
  return encode_path_segment(id);
}

}  // namespace

ToolHandlerMap client_tool_handlers(const AdHocAgentOptions& options) {
  ToolHandlerMap handlers;
  for (const auto& tool : options.tools) {
    ToolHandlers handler{tool.handler, tool.async_handler};
    if (handler) handlers[tool.name()] = std::move(handler);
  }
  return handlers;
}

AgentDefinition ad_hoc_definition(const AdHocAgentOptions& options) {
  if (options.core_app.ref.empty()) {
    throw InvalidArgumentError("agents.create: an ad-hoc agent needs core_app (the LLM app ref)");
  }
  json core = {{"ref", options.core_app.ref}};
  if (!options.core_app.setup.is_null()) core["setup"] = options.core_app.setup;
  if (!options.core_app.input.is_null()) core["input"] = options.core_app.input;
  json config = {{"core_app", std::move(core)}, {"system_prompt", options.system_prompt}};
  if (!options.name.empty()) config["name"] = options.name;
  if (!options.description.empty()) config["description"] = options.description;
  if (!options.tools.empty()) {
    json tools = json::array();
    for (const auto& tool : options.tools) tools.push_back(tool.schema);
    config["tools"] = std::move(tools);
  }
  if (!options.internal_tools.is_null()) config["internal_tools"] = options.internal_tools;
  if (!options.output_schema.is_null()) config["output_schema"] = options.output_schema;
  if (!options.example_prompts.empty()) config["example_prompts"] = options.example_prompts;
  if (options.extra_config.is_object()) {
    for (const auto& [key, value] : options.extra_config.items()) config[key] = value;
  }
  AgentDefinition agent;
  agent.agent_config = std::move(config);
  agent.agent_name = options.name;
  agent.context = options.context;
  return agent;
}

json run_body(const AgentDefinition& agent, const std::string& chat_id, const std::string& text,
              const json& attachments) {
  json body = json::object();
  if (!chat_id.empty()) body["chat_id"] = chat_id;
  if (!agent.agent_ref.empty()) {
    body["agent"] = agent.agent_ref;
  } else {
    body["agent_config"] = agent.agent_config;
    if (!agent.agent_name.empty()) body["agent_name"] = agent.agent_name;
  }
  if (!agent.context.empty()) body["context"] = agent.context;
  json input = {{"text", text},
                {"role", "user"},
                {"context", json::array()},
                {"system_prompt", ""},
                {"context_size", 0}};
  if (attachments.is_array() && !attachments.empty()) input["attachments"] = attachments;
  body["input"] = std::move(input);
  return body;
}

ApiCall agent_run_call(json body) { return post("/agents/run", std::move(body)); }

ApiCall get_chat_call(std::string_view chat_id) {
  ApiCall call;
  call.path = "/chats/" + segment(chat_id, "chat id");
  return call;
}

ApiCall chat_status_call(std::string_view chat_id) {
  ApiCall call;
  call.path = "/chats/" + segment(chat_id, "chat id") + "/status";
  return call;
}

ApiCall stop_chat_call(std::string_view chat_id) {
  return post("/chats/" + segment(chat_id, "chat id") + "/stop");
}

ApiCall tool_result_call(std::string_view invocation_id, const std::string& result) {
  return post("/tools/" + segment(invocation_id, "tool invocation id"), json{{"result", result}});
}

std::string tool_action_result(const ToolAction& action) {
  json value = {{"action", action.action}};
  if (!action.form_data.is_null()) value["form_data"] = action.form_data;
  return value.dump();
}

ApiCall approve_call(std::string_view invocation_id) {
  return post("/tools/" + segment(invocation_id, "tool invocation id") + "/invoke");
}

ApiCall reject_call(std::string_view invocation_id, const std::string& reason) {
  json body = json::object();
  if (!reason.empty()) body["reason"] = reason;
  return post("/tools/" + segment(invocation_id, "tool invocation id") + "/reject",
              std::move(body));
}

ApiCall always_allow_call(std::string_view chat_id, std::string_view invocation_id,
                          const std::string& tool_name) {
  return post("/chats/" + segment(chat_id, "chat id") + "/tools/" +
                  segment(invocation_id, "tool invocation id") + "/always-allow",
              json{{"tool_name", tool_name}});
}

ApiCall get_agent_call(std::string_view agent_id) {
  if (agent_id.empty()) throw InvalidArgumentError("agents.get: the agent id is empty");
  ApiCall call;
  call.path = "/agents/" + encode_path_segment(agent_id);
  return call;
}

ApiCall list_agents_call(const json& request) {
  return post("/agents/list", request.is_object() ? request : json::object());
}

AgentTemplate agent_from_payload(const ApiResult& payload, const std::string& agent_id) {
  if (!payload.data.is_object()) {
    throw DecodeError("GET /agents/" + agent_id + ": expected an agent");
  }
  return AgentTemplate::from_json(payload.data);
}

AgentList agent_list_from_payload(const ApiResult& payload) {
  AgentList list;
  if (!payload.data.is_object()) return list;
  list.raw = payload.data;
  if (const auto* items = common::find_field(payload.data, "items");
      items != nullptr && items->is_array()) {
    for (const auto& item : *items) list.items.push_back(AgentTemplate::from_json(item));
  }
  list.next_cursor = common::string_field_or(payload.data, "next_cursor");
  if (const auto* more = common::find_field(payload.data, "has_next");
      more != nullptr && more->is_boolean()) {
    list.has_next = more->get<bool>();
  }
  return list;
}

std::string handler_error_result(const std::string& what) { return json{{"error", what}}.dump(); }

std::string handler_error_result(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return handler_error_result(std::string(e.what()));
  } catch (...) {
    return handler_error_result(std::string("unknown error"));
  }
}

json file_ref_json(const FileRef& file) {
  json ref = {{"uri", file.uri}, {"filename", file.filename}, {"content_type", file.content_type}};
  if (!file.id.empty()) ref["id"] = file.id;
  if (file.size > 0) ref["size"] = file.size;
  return ref;
}

ChatMessage message_from(const json& data, const char* key) {
  const json* message = common::find_field(data, key);
  if (message == nullptr || !message->is_object()) {
    throw DecodeError(std::string("POST /agents/run: the answer has no ") + key);
  }
  return ChatMessage::from_json(*message);
}

}  // namespace inferencesh::detail
