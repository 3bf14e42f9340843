#include "inferencesh/agents.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "agent_operations.hpp"
#include "attachments.hpp"
#include "chat_event_source.hpp"
#include "client_core.hpp"
#include "common/json_fields.hpp"
#include "inferencesh/errors.hpp"
#include "turn_follow_core.hpp"

namespace inferencesh {
namespace detail {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

/// What an Agent holds: its definition, its handlers, and the chat it is in.
struct AgentState {
  std::shared_ptr<ClientCore> core;
  AgentDefinition definition;
  ToolHandlerMap handlers;

  mutable std::mutex mutex;
  std::string chat_id;

  std::string current_chat() const {
    std::lock_guard lock(mutex);
    return chat_id;
  }
};

namespace {

// Runs tool handlers and approval callbacks on threads of their own, so the stream is read on
// while they work. The first failure (a submit that failed) is kept and wakes the reader.
class HandlerRunner {
 public:
  explicit HandlerRunner(CancellationToken wake) : wake_(std::move(wake)) {}
  ~HandlerRunner() { join(); }
  HandlerRunner(const HandlerRunner&) = delete;
  HandlerRunner& operator=(const HandlerRunner&) = delete;

  void run(std::function<void()> work) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, work = std::move(work)] {
      try {
        work();
      } catch (...) {
        {
          std::lock_guard guard(mutex_);
          if (!error_) error_ = std::current_exception();
        }
        wake_.cancel();
      }
    });
  }

  void rethrow_error() {
    std::exception_ptr error;
    {
      std::lock_guard lock(mutex_);
      error = error_;
    }
    if (error) std::rethrow_exception(error);
  }

  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
  }

 private:
  CancellationToken wake_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::exception_ptr error_;
};

// Runs the turn's work (handlers and approval callbacks) on threads of its own and submits the
// outcomes: a handler's result text (an exception's as {"error": ...}), an approval's decision.
void run_work(HandlerRunner& runner, TurnFollowCore& turn, const std::shared_ptr<ClientCore>& core,
              const SendMessageOptions& options) {
  for (auto& work : turn.take_work()) {
    if (work.kind == TurnWork::Kind::tool) {
      runner.run([core, handlers = std::move(work.handlers), call = std::move(work.invocation)] {
        std::string result;
        try {
          result = handlers.run ? handlers.run(call.arguments)
                                : handlers.run_async(call.arguments).get();
        } catch (...) {
          result = handler_error_result(std::current_exception());
        }
        core->call(TurnFollowCore::result_call(call, result));
      });
    } else {
      runner.run([&turn, &options, core, call = std::move(work.invocation)] {
        const auto decided = turn.decision_call(call, options.on_approval(call));
        if (decided) core->call(*decided);
      });
    }
  }
}

}  // namespace

}  // namespace detail

// ---- Agent ---------------------------------------------------------------------------------

Agent::Agent(std::unique_ptr<detail::AgentState> state) : state_(std::move(state)) {}
Agent::Agent(Agent&&) noexcept = default;
Agent& Agent::operator=(Agent&&) noexcept = default;
Agent::~Agent() = default;

std::string Agent::chat_id() const { return state_->current_chat(); }

void Agent::reset() {
  std::lock_guard lock(state_->mutex);
  state_->chat_id.clear();
}

AgentResponse Agent::send_message(const std::string& text, const SendMessageOptions& options) {
  const auto started = detail::Clock::now();
  auto& core = *state_->core;
  // Files first: nothing is sent to the chat unless every upload worked.
  const nlohmann::json attachments =
      detail::upload_attachments(core, options.files, options.cancel);

  const std::string existing = state_->current_chat();
  detail::TurnFollowCore turn(state_->core, options, state_->handlers, existing, started);

  // The reader's token: the caller's cancel, or a failed handler, wakes it.
  CancellationToken wake;
  const auto forward = options.cancel.on_cancel([wake] { wake.cancel(); });
  detail::HandlerRunner runner(wake);
  // Handlers and approval callbacks may still use the turn: they end before it does.
  struct JoinFirst {
    detail::HandlerRunner& runner;
    ~JoinFirst() { runner.join(); }
  } join_first{runner};

  std::unique_ptr<detail::ChatEventSource> source;
  const auto make_source = [&](const std::string& id) {
    return std::make_unique<detail::ChatEventSource>(state_->core, id, turn.max_reconnects(), wake,
                                                     turn.deadline());
  };
  if (turn.stream_before_post()) {
    source = make_source(existing);
    source->open();
  }

  turn.begin(core.call(turn.run_call(state_->definition, text, attachments), options.cancel));
  if (existing.empty()) {
    std::lock_guard lock(state_->mutex);
    if (state_->chat_id.empty()) state_->chat_id = turn.chat_id();
  }
  if (!turn.waits()) return turn.result();

  const auto fetch_chat = [&] {
    turn.apply_chat(core.call(turn.fetch_call(), wake).data);
    detail::run_work(runner, turn, state_->core, options);
  };
  try {
    if (turn.mode() == WaitMode::stream) {
      if (!source) {
        source = make_source(turn.chat_id());
        source->open();
        if (turn.fetch_after_open()) fetch_chat();
      }
      source->on_reopened(fetch_chat);
      while (!turn.over()) {
        turn.apply_event(source->next());
        detail::run_work(runner, turn, state_->core, options);
        runner.rethrow_error();
      }
    } else {
      bool first = true;
      while (!turn.over()) {
        if (!first && wake.wait_for(turn.poll_interval())) {
          throw CancelledError("the call was cancelled");
        }
        first = false;
        runner.rethrow_error();
        if (turn.deadline_passed()) throw turn.deadline_error();
        if (!turn.status_changed(core.call(turn.status_call(), wake))) continue;
        fetch_chat();
      }
    }
  } catch (const CancelledError&) {
    runner.rethrow_error();
    throw;
  }
  source.reset();
  runner.join();
  runner.rethrow_error();
  return turn.result();
}

nlohmann::json Agent::run(const std::string& text, const SendMessageOptions& options) {
  const AgentResponse response = send_message(text, options);
  if (!response.chat.output.is_null()) return response.chat.output;
  const auto chat = get_chat();
  return chat ? chat->output : nlohmann::json();
}

std::optional<Chat> Agent::get_chat(const std::string& chat_id) const {
  const std::string id = chat_id.empty() ? state_->current_chat() : chat_id;
  if (id.empty()) return std::nullopt;
  const auto result = state_->core->call(detail::get_chat_call(id));
  if (!result.data.is_object()) throw DecodeError("GET /chats/" + id + ": expected a chat");
  return Chat::from_json(result.data);
}

void Agent::stop_chat(const std::string& chat_id) const {
  const std::string id = chat_id.empty() ? state_->current_chat() : chat_id;
  if (id.empty()) return;
  state_->core->call(detail::stop_chat_call(id));
}

void Agent::submit_tool_result(const std::string& invocation_id, const std::string& result) const {
  state_->core->call(detail::tool_result_call(invocation_id, result));
}

void Agent::submit_tool_result(const std::string& invocation_id, const ToolAction& action) const {
  submit_tool_result(invocation_id, detail::tool_action_result(action));
}

void Agent::approve(const std::string& invocation_id) const {
  state_->core->call(detail::approve_call(invocation_id));
}

void Agent::reject(const std::string& invocation_id, const std::string& reason) const {
  state_->core->call(detail::reject_call(invocation_id, reason));
}

void Agent::always_allow(const std::string& invocation_id, const std::string& tool_name) const {
  const std::string id = state_->current_chat();
  if (id.empty()) return;
  state_->core->call(detail::always_allow_call(id, invocation_id, tool_name));
}

namespace {

// The chat's stream, opened before it is handed out: nothing after the call is missed.
std::unique_ptr<detail::ChatEventSource> open_chat_stream(const detail::AgentState& state,
                                                          const ChatStreamOptions& options,
                                                          const char* what) {
  const std::string id = state.current_chat();
  if (id.empty())
    throw InvalidArgumentError(std::string(what) + ": no chat yet, send a message first");
  auto source = std::make_unique<detail::ChatEventSource>(
      state.core, id, options.max_reconnects.value_or(state.core->options().wait.max_reconnects),
      options.cancel, std::nullopt);
  source->open();
  return source;
}

}  // namespace

MessageStream Agent::stream_messages(const ChatStreamOptions& options) const {
  return MessageStream(open_chat_stream(*state_, options, "stream_messages"));
}

ChatStream Agent::stream_chat(const ChatStreamOptions& options) const {
  return ChatStream(open_chat_stream(*state_, options, "stream_chat"));
}

// ---- ChatUpdates ---------------------------------------------------------------------------

template <class T>
ChatUpdates<T>::ChatUpdates(std::unique_ptr<detail::ChatEventSource> source)
    : source_(std::move(source)) {}
template <class T>
ChatUpdates<T>::ChatUpdates(ChatUpdates&&) noexcept = default;
template <class T>
ChatUpdates<T>& ChatUpdates<T>::operator=(ChatUpdates&&) noexcept = default;
template <class T>
ChatUpdates<T>::~ChatUpdates() = default;

template <class T>
void ChatUpdates<T>::close() {
  source_.reset();
}

template <class T>
const T* ChatUpdates<T>::next() {
  constexpr const char* wanted = std::is_same_v<T, ChatMessage> ? "chat_messages" : "chats";
  while (source_) {
    const detail::StreamEvent event = source_->next();
    if (event.kind != detail::StreamEvent::Kind::typed || event.event != wanted) continue;
    if (!event.data.is_object()) continue;
    current_ = T::from_json(event.data);
    return &*current_;
  }
  return nullptr;
}

template class ChatUpdates<ChatMessage>;
template class ChatUpdates<Chat>;

// ---- Agents --------------------------------------------------------------------------------

Agent Agents::create(const std::string& agent_ref, const TemplateAgentOptions& options) const {
  if (agent_ref.empty()) throw InvalidArgumentError("agents.create: the agent ref is empty");
  auto state = std::make_unique<detail::AgentState>();
  state->core = core_;
  state->definition.agent_ref = agent_ref;
  state->definition.context = options.context;
  return Agent(std::move(state));
}

Agent Agents::create(const AdHocAgentOptions& options) const {
  auto state = std::make_unique<detail::AgentState>();
  state->core = core_;
  state->definition = detail::ad_hoc_definition(options);
  state->handlers = detail::client_tool_handlers(options);
  return Agent(std::move(state));
}

AgentTemplate AgentTemplate::from_json(const nlohmann::json& object) {
  AgentTemplate agent;
  if (!object.is_object()) return agent;
  agent.raw = object;
  agent.id = common::string_field_or(object, "id");
  agent.name = common::string_field_or(object, "name");
  agent.namespace_name = common::string_field_or(object, "namespace");
  return agent;
}

AgentTemplate Agents::get(const std::string& agent_id) const {
  return detail::agent_from_payload(core_->call(detail::get_agent_call(agent_id)), agent_id);
}

AgentList Agents::list(const nlohmann::json& request) const {
  return detail::agent_list_from_payload(core_->call(detail::list_agents_call(request)));
}

}  // namespace inferencesh
