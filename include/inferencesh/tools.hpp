#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/future.hpp"

namespace inferencesh {

/// The JSON Schema of one tool parameter, made by the helpers below (string, number, integer,
/// boolean, enum_of, array, object, optional). `json` is what goes on the wire, already in its
/// final form: nested objects carry their own `required`, array items are built the same way,
/// and `optional` is a flag of the parameter, never a key of the schema.
///
///     .param("units", inf::optional(inf::enum_of({"c", "f"}, "Units")))
struct Schema {
  nlohmann::json json = nlohmann::json::object();
  bool is_optional = false;

  Schema() = default;
  /// Takes a JSON Schema written by hand. A top-level `"optional": true` (the Python and JS
  /// builders' flag) is taken as is_optional and removed; nested objects without `required`
  /// get one from their properties, as the helpers do.
  Schema(nlohmann::json schema);  // NOLINT(google-explicit-constructor): schemas read as JSON
};

/// A named parameter, in declaration order.
using Param = std::pair<std::string, Schema>;

/// `{"type":"string"}`, with the description when it is not empty.
Schema string(const std::string& description = {});
/// `{"type":"number"}`
Schema number(const std::string& description = {});
/// `{"type":"integer"}`
Schema integer(const std::string& description = {});
/// `{"type":"boolean"}`
Schema boolean(const std::string& description = {});
/// `{"type":"string","enum":[...]}`
Schema enum_of(const std::vector<std::string>& values, const std::string& description = {});
/// `{"type":"array","items":<items>}`
Schema array(const Schema& items, const std::string& description = {});
/// `{"type":"object","properties":{...},"required":[...]}`: `required` lists the properties
/// not made optional, in order, and is left out when empty.
Schema object(const std::vector<Param>& properties, const std::string& description = {});
/// The same schema, marked optional: left out of its object's `required`.
Schema optional(Schema schema);

/// Runs a client tool: takes the call's arguments (a JSON object), returns the result text the
/// agent sees. An exception it throws is submitted as `{"error": "<what()>"}`.
using ToolHandler = std::function<std::string(const nlohmann::json& arguments)>;

/// Runs a client tool asynchronously: returns at once with a future of the result text. A
/// failed future is submitted as `{"error": "<what()>"}`. The async client calls it on its loop
/// thread (so it must not block; it may start calls of the async client and co_await them), the
/// blocking client on a thread of its own, waiting for the future there.
///
///     .handler([&](const nlohmann::json& args) -> inf::future<std::string> {
///       inf::Task t = co_await client.tasks.run(lookup(args));
///       co_return t.output.dump();
///     })
using AsyncToolHandler = std::function<future<std::string>(const nlohmann::json& arguments)>;

/// A tool of an agent: the AgentTool object sent to the server (`schema`) and, for a client
/// tool, the handler that runs it here (one kind or the other). Handlers never reach the wire.
struct Tool {
  nlohmann::json schema = nlohmann::json::object();
  ToolHandler handler;
  AsyncToolHandler async_handler;

  /// The tool's `name`.
  std::string name() const;
};

/// What every tool builder has: description, display name, parameters, approval.
class ToolBuilderBase {
 protected:
  ToolBuilderBase(std::string name, std::string type);

  /// The AgentTool object: the common fields and `"<type>": type_object`.
  nlohmann::json make_json(nlohmann::json type_object) const;
  /// `{"type":"object","properties":{...},"required":[...]}` of the parameters (`required`
  /// always present at this level).
  nlohmann::json input_schema() const;

  std::string name_;
  std::string type_;
  std::string display_name_;
  std::string description_;
  bool require_approval_ = false;
  std::vector<Param> params_;
};

/// The chainable methods shared by all builders, returning the concrete builder.
template <class Derived>
class ToolBuilder : public ToolBuilderBase {
 public:
  /// The description the model reads (default "").
  Derived& describe(const std::string& text) {
    description_ = text;
    return self();
  }
  /// Same as describe().
  Derived& description(const std::string& text) { return describe(text); }
  /// The name shown to people (default: the tool's name).
  Derived& display_name(const std::string& name) {
    display_name_ = name;
    return self();
  }
  /// Same as display_name() (the official SDKs' former name).
  Derived& display(const std::string& name) { return display_name(name); }
  /// Adds a parameter; order is kept.
  Derived& param(std::string name, Schema schema) {
    params_.emplace_back(std::move(name), std::move(schema));
    return self();
  }
  /// Adds parameters in order: `.params({{"city", inf::string("City name")}})`.
  Derived& params(const std::vector<Param>& list) {
    params_.insert(params_.end(), list.begin(), list.end());
    return self();
  }
  /// The tool waits for a person's approval before it runs.
  Derived& require_approval(bool required = true) {
    require_approval_ = required;
    return self();
  }
  /// The AgentTool object of the tool (what the server is sent).
  nlohmann::json to_json() const {
    return make_json(static_cast<const Derived&>(*this).type_object());
  }
  /// The finished tool.
  Tool build() const { return Tool{to_json(), {}, {}}; }

 protected:
  using ToolBuilderBase::ToolBuilderBase;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

/// A client tool: the agent asks this program to run it (`type: "client"`).
class ClientToolBuilder : public ToolBuilder<ClientToolBuilder> {
 public:
  explicit ClientToolBuilder(std::string name);
  /// Runs the tool when the agent calls it (during send_message), off the stream's reading: a
  /// function returning the result text. Replaces an asynchronous handler given before.
  ClientToolBuilder& handler(ToolHandler fn) {
    handler_ = std::move(fn);
    async_handler_ = nullptr;
    return *this;
  }
  /// The same with a function returning `inf::future<std::string>` (it may be a coroutine).
  /// Replaces a handler given before.
  ClientToolBuilder& handler(AsyncToolHandler fn) {
    async_handler_ = std::move(fn);
    handler_ = nullptr;
    return *this;
  }
  /// The tool with its handler.
  Tool build() const { return Tool{to_json(), handler_, async_handler_}; }

 private:
  friend class ToolBuilder<ClientToolBuilder>;
  nlohmann::json type_object() const;
  ToolHandler handler_;
  AsyncToolHandler async_handler_;
};

/// An inference.sh app run as a tool (`type: "app"`). Parameters are not sent: the app's own
/// input schema is what the model sees.
class AppToolBuilder : public ToolBuilder<AppToolBuilder> {
 public:
  AppToolBuilder(std::string name, std::string app_ref);
  /// The app function to call.
  AppToolBuilder& function(std::string name);
  /// Setup values, hidden from the model, sent on every call.
  AppToolBuilder& setup(nlohmann::json values);
  /// Default input values the model may override.
  AppToolBuilder& input(nlohmann::json values);
  /// Calls of the tool share one session, so the app keeps its state.
  AppToolBuilder& session_enabled(bool enabled = true);

 private:
  friend class ToolBuilder<AppToolBuilder>;
  nlohmann::json type_object() const;
  std::string ref_;
  std::string function_;
  nlohmann::json setup_;
  nlohmann::json input_;
  bool session_enabled_ = false;
};

/// Another agent (a template, `ns/name@version`) as a tool (`type: "agent"`).
class AgentToolBuilder : public ToolBuilder<AgentToolBuilder> {
 public:
  AgentToolBuilder(std::string name, std::string agent_ref);

 private:
  friend class ToolBuilder<AgentToolBuilder>;
  nlohmann::json type_object() const;
  std::string ref_;
};

/// A webhook tool (`type: "hook"`, the older form of http tools): the server POSTs the call to
/// `url` and the result comes back to a callback URL.
class WebhookToolBuilder : public ToolBuilder<WebhookToolBuilder> {
 public:
  WebhookToolBuilder(std::string name, std::string url);
  /// The name of the secret (in the team's secret store) the hook is signed with.
  WebhookToolBuilder& secret(std::string name);

 private:
  friend class ToolBuilder<WebhookToolBuilder>;
  nlohmann::json type_object() const;
  std::string url_;
  std::string secret_;
};

/// An HTTP request as a tool (`type: "http"`).
class HttpToolBuilder : public ToolBuilder<HttpToolBuilder> {
 public:
  HttpToolBuilder(std::string name, std::string url);
  /// The request method (default POST, then left out).
  HttpToolBuilder& method(std::string method);
  /// A header; the value may name a secret as `${{secrets.NAME}}`.
  HttpToolBuilder& header(std::string name, std::string value);
  /// Authenticates through an integration of the team (`provider`, e.g. "google").
  HttpToolBuilder& integration(std::string provider, std::string integration_id = {});
  /// Sends the secret named `secret` in `header`.
  HttpToolBuilder& api_key(std::string secret, std::string header = "X-API-Key");
  /// Sends the secret named `secret` as `Authorization: Bearer`.
  HttpToolBuilder& bearer(std::string secret);
  /// Any other auth object (ToolAuthConfig), as is.
  HttpToolBuilder& auth(nlohmann::json config);

 private:
  friend class ToolBuilder<HttpToolBuilder>;
  nlohmann::json type_object() const;
  std::string url_;
  std::string method_ = "POST";
  std::vector<std::pair<std::string, std::string>> headers_;
  nlohmann::json auth_;
};

/// A tool of an MCP server connected as an integration (`type: "mcp"`).
class McpToolBuilder : public ToolBuilder<McpToolBuilder> {
 public:
  McpToolBuilder(std::string name, std::string integration_id, std::string tool_name);

 private:
  friend class ToolBuilder<McpToolBuilder>;
  nlohmann::json type_object() const;
  std::string integration_id_;
  std::string tool_name_;
};

/// The internal tools an agent may use (`agent_config.internal_tools`). Only the flags set are
/// sent; `build()` of an untouched builder is `{}`.
///
///     .internal_tools = inf::internal_tools().finish().plan(false).build()
class InternalTools {
 public:
  InternalTools& plan(bool enabled = true) { return set("plan", enabled); }
  InternalTools& memory(bool enabled = true) { return set("memory", enabled); }
  InternalTools& widget(bool enabled = true) { return set("widget", enabled); }
  InternalTools& finish(bool enabled = true) { return set("finish", enabled); }
  InternalTools& meta(bool enabled = true) { return set("meta", enabled); }
  /// plan, memory, widget and finish on.
  InternalTools& all() { return plan().memory().widget().finish(); }
  /// plan, memory, widget and finish off.
  InternalTools& none() { return plan(false).memory(false).widget(false).finish(false); }
  /// Any other flag by its wire name (e.g. "skills", "host_context").
  InternalTools& set(const std::string& name, bool enabled) {
    flags_[name] = enabled;
    return *this;
  }
  nlohmann::json build() const;

 private:
  std::map<std::string, bool> flags_;
};

/// A client tool: `inf::tool("get_weather").describe("...").param("city", inf::string())`.
inline ClientToolBuilder tool(std::string name) { return ClientToolBuilder(std::move(name)); }
inline AppToolBuilder app_tool(std::string name, std::string app_ref) {
  return {std::move(name), std::move(app_ref)};
}
inline AgentToolBuilder agent_tool(std::string name, std::string agent_ref) {
  return {std::move(name), std::move(agent_ref)};
}
inline WebhookToolBuilder webhook_tool(std::string name, std::string url) {
  return {std::move(name), std::move(url)};
}
inline HttpToolBuilder http_tool(std::string name, std::string url) {
  return {std::move(name), std::move(url)};
}
/// The JS SDK's alias of http_tool (it builds the same `"http"` tool).
inline HttpToolBuilder call_tool(std::string name, std::string url) {
  return {std::move(name), std::move(url)};
}
inline McpToolBuilder mcp_tool(std::string name, std::string integration_id,
                               std::string tool_name) {
  return {std::move(name), std::move(integration_id), std::move(tool_name)};
}
inline InternalTools internal_tools() { return {}; }

}  // namespace inferencesh
