#pragma once

// The requests of http and hook tools, without I/O: the http tool's method, URL, headers and
// auth with `${{secrets.NAME}}` and `{{context.KEY}}` filled in, the arguments as a JSON body
// (or a query string for GET, HEAD and DELETE); a hook tool's HookPayload. Secret values are
// listed with the request so that whatever comes back can be cleaned of them.

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/transport.hpp"

namespace infsh::local {

/// The value of a secret, or nullopt (see ChatEngineOptions::secret).
using SecretValue = std::function<std::optional<std::string>(const std::string& name)>;

/// Why a tool's request cannot be made; the text is the tool's result, for the core to read.
class ToolRequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ToolRequest {
  inferencesh::HttpRequest request;
  std::vector<std::string> secrets;  ///< the secret values it carries
};

/// The request of an http tool (`http` is its HTTPToolConfig) called with `arguments`, in a chat
/// whose context map is `context`. Throws ToolRequestError: a secret that is not set (naming it
/// and how to set it), an `integration` auth (not available locally), a context key the chat
/// lacks.
ToolRequest http_tool_request(const nlohmann::json& http, const nlohmann::json& arguments,
                              const nlohmann::json& context, const SecretValue& secret);

/// The HookPayload POSTed to a hook tool's URL (protocol-agents-tools.md 5.4).
ToolRequest hook_tool_request(const nlohmann::json& hook, const std::string& invocation_id,
                              const std::string& hook_name, const std::string& callback_url,
                              const std::string& timestamp, const nlohmann::json& arguments,
                              const SecretValue& secret);

/// `text` with every occurrence of each secret replaced by "[secret]".
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace infsh::local
