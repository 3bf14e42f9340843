#include "inferencesh/async_agents.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "agent_operations.hpp"
#include "async_core.hpp"
#include "async_operations.hpp"
#include "async_turn.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh {

namespace detail {

/// What an AsyncAgent and its copies share: the client, the definition, the handlers and the
/// chat. The turns in flight hold the loop and the chat, not this.
struct AsyncAgentState {
  std::shared_ptr<AsyncCore> core;
  std::shared_ptr<HandlerExecutor> executor;
  AgentDefinition definition;
  ToolHandlerMap handlers;
  std::shared_ptr<ChatCell> chat = std::make_shared<ChatCell>();

  AsyncTurnContext context() const { return {core->loop(), core->client(), executor, chat}; }

  future<void> call(ApiCall api_call) const {
    return async_call_future(core->loop(), core->client(), std::move(api_call), {})
        .then([](const ApiResult&) {});
  }
};

namespace {

// Threads for blocking handlers and approval callbacks: enough for a few slow tools at once,
// started only when used.
std::size_t handler_threads() {
  return std::max<std::size_t>(4, std::thread::hardware_concurrency());
}

template <typename T>
future<T> failed(std::exception_ptr error) {
  return make_exceptional_future<T>(std::move(error));
}

// GET /chats/{id} (default: the agent's chat) with what a turn holds, never the AsyncCore: a
// continuation holding the client would keep its loop from shutting down.
future<std::optional<Chat>> fetch_chat(const AsyncTurnContext& context,
                                       const std::string& chat_id) {
  const std::string id = chat_id.empty() ? context.chat->get() : chat_id;
  if (id.empty()) return make_ready_future(std::optional<Chat>());
  try {
    return async_call_future(context.loop, context.core, get_chat_call(id), {})
        .then([id](const ApiResult& result) {
          if (!result.data.is_object()) throw DecodeError("GET /chats/" + id + ": expected a chat");
          return std::optional<Chat>(Chat::from_json(result.data));
        });
  } catch (...) {
    return failed<std::optional<Chat>>(std::current_exception());
  }
}

}  // namespace

}  // namespace detail

// ---- AsyncAgent ----------------------------------------------------------------------------

AsyncAgent::AsyncAgent(std::shared_ptr<detail::AsyncAgentState> state) : state_(std::move(state)) {}

future<AgentResponse> AsyncAgent::send_message(const std::string& text,
                                               const SendMessageOptions& options) {
  return detail::send_message_async(state_->context(), state_->definition, state_->handlers, text,
                                    options);
}

future<AgentResponse> AsyncAgent::send_message(const std::string& text) {
  return send_message(text, SendMessageOptions{});
}

future<nlohmann::json> AsyncAgent::run(const std::string& text, const SendMessageOptions& options) {
  return send_message(text, options)
      .then([context = state_->context()](const AgentResponse& response) -> future<nlohmann::json> {
        if (!response.chat.output.is_null()) return make_ready_future(response.chat.output);
        return detail::fetch_chat(context, std::string()).then([](const std::optional<Chat>& chat) {
          return chat ? chat->output : nlohmann::json();
        });
      });
}

future<nlohmann::json> AsyncAgent::run(const std::string& text) {
  return run(text, SendMessageOptions{});
}

future<std::optional<Chat>> AsyncAgent::get_chat() const { return get_chat(std::string()); }

future<std::optional<Chat>> AsyncAgent::get_chat(const std::string& chat_id) const {
  return detail::fetch_chat(state_->context(), chat_id);
}

future<void> AsyncAgent::stop_chat() const { return stop_chat(std::string()); }

future<void> AsyncAgent::stop_chat(const std::string& chat_id) const {
  const std::string id = chat_id.empty() ? state_->chat->get() : chat_id;
  if (id.empty()) return make_ready_future();
  try {
    return state_->call(detail::stop_chat_call(id));
  } catch (...) {
    return detail::failed<void>(std::current_exception());
  }
}

future<void> AsyncAgent::submit_tool_result(const std::string& invocation_id,
                                            const std::string& result) const {
  try {
    return state_->call(detail::tool_result_call(invocation_id, result));
  } catch (...) {
    return detail::failed<void>(std::current_exception());
  }
}

future<void> AsyncAgent::submit_tool_result(const std::string& invocation_id,
                                            const ToolAction& action) const {
  return submit_tool_result(invocation_id, detail::tool_action_result(action));
}

future<void> AsyncAgent::approve(const std::string& invocation_id) const {
  try {
    return state_->call(detail::approve_call(invocation_id));
  } catch (...) {
    return detail::failed<void>(std::current_exception());
  }
}

future<void> AsyncAgent::reject(const std::string& invocation_id) const {
  return reject(invocation_id, std::string());
}

future<void> AsyncAgent::reject(const std::string& invocation_id, const std::string& reason) const {
  try {
    return state_->call(detail::reject_call(invocation_id, reason));
  } catch (...) {
    return detail::failed<void>(std::current_exception());
  }
}

future<void> AsyncAgent::always_allow(const std::string& invocation_id,
                                      const std::string& tool_name) const {
  const std::string id = state_->chat->get();
  if (id.empty()) return make_ready_future();
  try {
    return state_->call(detail::always_allow_call(id, invocation_id, tool_name));
  } catch (...) {
    return detail::failed<void>(std::current_exception());
  }
}

void AsyncAgent::reset() { state_->chat->clear(); }

std::string AsyncAgent::chat_id() const { return state_->chat->get(); }

// ---- AsyncAgents ---------------------------------------------------------------------------

AsyncAgents::AsyncAgents(std::shared_ptr<detail::AsyncCore> core)
    : core_(std::move(core)),
      handlers_(std::make_shared<detail::HandlerExecutor>(detail::handler_threads())) {}

AsyncAgent AsyncAgents::create(const std::string& agent_ref,
                               const TemplateAgentOptions& options) const {
  if (agent_ref.empty()) throw InvalidArgumentError("agents.create: the agent ref is empty");
  auto state = std::make_shared<detail::AsyncAgentState>();
  state->core = core_;
  state->executor = handlers_;
  state->definition.agent_ref = agent_ref;
  state->definition.context = options.context;
  return AsyncAgent(std::move(state));
}

AsyncAgent AsyncAgents::create(const std::string& agent_ref) const {
  return create(agent_ref, TemplateAgentOptions{});
}

AsyncAgent AsyncAgents::create(const AdHocAgentOptions& options) const {
  auto state = std::make_shared<detail::AsyncAgentState>();
  state->core = core_;
  state->executor = handlers_;
  state->definition = detail::ad_hoc_definition(options);
  state->handlers = detail::client_tool_handlers(options);
  return AsyncAgent(std::move(state));
}

future<AgentTemplate> AsyncAgents::get(const std::string& agent_id) const {
  try {
    return detail::async_call_future(core_->loop(), core_->client(),
                                     detail::get_agent_call(agent_id), {})
        .then([agent_id](const detail::ApiResult& result) {
          return detail::agent_from_payload(result, agent_id);
        });
  } catch (...) {
    return detail::failed<AgentTemplate>(std::current_exception());
  }
}

future<AgentList> AsyncAgents::list(const nlohmann::json& request) const {
  try {
    return detail::async_call_future(core_->loop(), core_->client(),
                                     detail::list_agents_call(request), {})
        .then([](const detail::ApiResult& result) {
          return detail::agent_list_from_payload(result);
        });
  } catch (...) {
    return detail::failed<AgentList>(std::current_exception());
  }
}

future<AgentList> AsyncAgents::list() const { return list(nlohmann::json::object()); }

}  // namespace inferencesh
