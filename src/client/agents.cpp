#include "inferencesh/agents.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "agent_operations.hpp"
#include "chat_event_source.hpp"
#include "client_core.hpp"
#include "common/json_fields.hpp"
#include "delta_accumulator.hpp"
#include "file_transfer.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh {
namespace detail {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

/// What an Agent holds: its definition, its handlers, and the chat it is in.
struct AgentState {
  std::shared_ptr<ClientCore> core;
  AgentDefinition definition;
  std::unordered_map<std::string, ToolHandler> handlers;

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

void merge_into(json& target, const json& update) {
  if (!target.is_object()) target = json::object();
  if (!update.is_object()) return;
  for (const auto& [key, value] : update.items()) target[key] = value;
}

// The state of one turn as seen from here, fed by stream events or polled chats, and the rules
// for when the turn is over (newest SDK rules: busy or awaiting_input is not over, the turn gate
// for existing chats) or waiting on this program (client tools without a handler, approvals
// without on_approval).
class TurnFollower {
 public:
  TurnFollower(AgentState& agent, const SendMessageOptions& options, HandlerRunner& runner,
               bool gate_settled)
      : agent_(agent), options_(options), runner_(runner), gate_settled_(gate_settled) {}

  void begin(std::string chat_id, ChatMessage user, ChatMessage assistant) {
    chat_id_ = std::move(chat_id);
    user_ = std::move(user);
    assistant_id_ = assistant.id;
    first_assistant_ = assistant;
    store(assistant, false);
  }

  void apply_event(const StreamEvent& event) {
    if (event.kind != StreamEvent::Kind::typed) return;
    if (event.event == "chat_messages") {
      apply_message(ChatMessage::from_json(event.data), true);
    } else if (event.event == "chats") {
      if (!event.data.is_object()) return;
      const std::string id = common::string_field_or(event.data, "id");
      if (!id.empty() && id != chat_id_) return;
      merge_into(chat_json_, event.data);
      chat_json_.erase("chat_messages");
      apply_chat_state();
    } else if (event.event == "agent_runs") {
      if (!event.data.is_object()) return;
      chat_json_["active_run"] = event.data;
      apply_chat_state();
    } else if (event.event == "delta") {
      apply_delta(event.data);
    }
  }

  // A whole chat from GET /chats/{id}: its messages of this turn and its state.
  void apply_chat(const json& chat) {
    if (!chat.is_object()) return;
    const Chat parsed = Chat::from_json(chat);
    for (const auto& message : parsed.messages) {
      if (message.order < user_.order) continue;
      const auto known = messages_.find(message.id);
      const bool changed = known == messages_.end() || known->second.raw != message.raw;
      if (changed) apply_message(message, true);
    }
    json state = chat;
    state.erase("chat_messages");
    merge_into(chat_json_, state);
    apply_chat_state();
  }

  bool over() {
    if (!chat_seen_ || !gate_settled_) return false;
    const Chat chat = Chat::from_json(chat_json_);
    if (!chat.is_busy()) return true;
    if (chat.status != ChatStatus::awaiting_input) return false;
    std::lock_guard lock(mutex_);
    bool waiting = false;
    for (const auto& [id, message] : messages_) {
      for (const auto& invocation : message.tool_invocations) {
        if (!invocation.awaits_client_result() && !invocation.awaits_approval()) continue;
        if (handled_.count(invocation.id) > 0) return false;  // being handled here
        waiting = true;
      }
    }
    return waiting;
  }

  AgentResponse result() const {
    AgentResponse response;
    response.user_message = user_;
    std::vector<ChatMessage> turn;
    for (const auto& [id, message] : messages_) turn.push_back(message);
    std::stable_sort(turn.begin(), turn.end(),
                     [](const ChatMessage& a, const ChatMessage& b) { return a.order < b.order; });
    response.assistant_message = first_assistant_;
    for (const auto& message : turn) {
      if (message.role == "assistant") response.assistant_message = message;
    }
    std::lock_guard lock(mutex_);
    for (const auto& message : turn) {
      for (const auto& invocation : message.tool_invocations) {
        if (handled_.count(invocation.id) > 0) continue;
        if (invocation.awaits_client_result()) response.pending_tool_calls.push_back(invocation);
        if (invocation.awaits_approval()) response.pending_approvals.push_back(invocation);
      }
    }
    json chat = chat_json_;
    if (!chat.contains("id")) chat["id"] = chat_id_;
    response.chat = Chat::from_json(chat);
    response.chat.messages = std::move(turn);
    return response;
  }

 private:
  void store(const ChatMessage& message, bool notify) {
    messages_[message.id] = message;
    if (notify && options_.on_message) options_.on_message(message);
  }

  void apply_message(const ChatMessage& message, bool notify) {
    if (message.id.empty()) return;
    if (!message.chat_id.empty() && !chat_id_.empty() && message.chat_id != chat_id_) return;
    if (message.id == user_.id) {
      user_ = message;
      if (notify && options_.on_message) options_.on_message(message);
      return;
    }
    store(message, notify);
    if (message.id == assistant_id_ && message.is_terminal()) gate_settled_ = true;
    if (message.is_terminal()) accumulators_.erase(message.id);
    dispatch(message);
  }

  void apply_chat_state() {
    chat_seen_ = true;
    const Chat chat = Chat::from_json(chat_json_);
    if (chat.is_busy()) gate_settled_ = true;
    if (options_.on_chat) options_.on_chat(chat);
  }

  void apply_delta(const json& data) {
    if (!data.is_object()) return;
    const std::string resource = common::string_field_or(data, "resource_id");
    const json* delta = common::find_field(data, "delta");
    if (resource.empty() || delta == nullptr) return;
    DeltaAccumulator& accumulator = accumulators_[resource];
    accumulator.add(*delta);
    if (!options_.on_delta) return;
    ChatDelta piece;
    piece.message_id = resource;
    piece.seq = common::integer_field_or(data, "seq");
    piece.delta = *delta;
    piece.output = accumulator.output();
    piece.text = common::string_field_or(piece.output, "response");
    piece.reasoning = common::string_field_or(piece.output, "reasoning");
    options_.on_delta(piece);
  }

  // Client tool calls and approvals, each once per send.
  void dispatch(const ChatMessage& message) {
    for (const auto& invocation : message.tool_invocations) {
      if (invocation.id.empty()) continue;
      if (invocation.awaits_client_result()) {
        if (!dispatched_.insert(invocation.id).second) continue;
        if (options_.on_tool_call) options_.on_tool_call(invocation);
        const auto handler = agent_.handlers.find(invocation.name);
        if (handler == agent_.handlers.end() || !handler->second) continue;
        mark_handled(invocation.id);
        runner_.run([core = agent_.core, fn = handler->second, invocation] {
          std::string result;
          try {
            result = fn(invocation.arguments);
          } catch (const std::exception& e) {
            result = handler_error_result(e.what());
          } catch (...) {
            result = handler_error_result("unknown error");
          }
          core->call(tool_result_call(invocation.id, result));
        });
      } else if (invocation.awaits_approval()) {
        if (!approvals_.insert(invocation.id).second || !options_.on_approval) continue;
        mark_handled(invocation.id);
        runner_.run([this, core = agent_.core, invocation] {
          const ApprovalDecision decision = options_.on_approval(invocation);
          switch (decision.kind) {
            case ApprovalDecision::Kind::approve:
              core->call(approve_call(invocation.id));
              break;
            case ApprovalDecision::Kind::reject:
              core->call(reject_call(invocation.id, decision.reason));
              break;
            case ApprovalDecision::Kind::always_allow:
              core->call(always_allow_call(chat_id_, invocation.id, invocation.name));
              break;
            case ApprovalDecision::Kind::later: {
              std::lock_guard lock(mutex_);
              handled_.erase(invocation.id);
              break;
            }
          }
        });
      }
    }
  }

  void mark_handled(const std::string& id) {
    std::lock_guard lock(mutex_);
    handled_.insert(id);
  }

  AgentState& agent_;
  const SendMessageOptions& options_;
  HandlerRunner& runner_;
  bool gate_settled_;
  bool chat_seen_ = false;
  std::string chat_id_;
  ChatMessage user_;
  std::string assistant_id_;
  ChatMessage first_assistant_;
  std::unordered_map<std::string, ChatMessage> messages_;
  json chat_json_ = json::object();
  std::unordered_map<std::string, DeltaAccumulator> accumulators_;
  std::set<std::string> dispatched_;
  std::set<std::string> approvals_;
  mutable std::mutex mutex_;
  std::set<std::string> handled_;  // calls a handler or on_approval is taking care of
};

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

}  // namespace

}  // namespace detail

// ---- Attachment ----------------------------------------------------------------------------

Attachment::Attachment(FileRef file) : kind_(Kind::file_ref), file_(std::move(file)) {}
Attachment::Attachment(std::filesystem::path path) : kind_(Kind::path), path_(std::move(path)) {}
Attachment::Attachment(std::string source) : kind_(Kind::source), data_(std::move(source)) {}

Attachment Attachment::bytes(std::string data, std::string filename, std::string content_type) {
  Attachment attachment;
  attachment.kind_ = Kind::bytes;
  attachment.data_ = std::move(data);
  attachment.filename_ = std::move(filename);
  attachment.content_type_ = std::move(content_type);
  return attachment;
}

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
  using detail::Clock;
  const auto started = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (options.deadline) deadline = started + *options.deadline;
  auto& core = *state_->core;

  // Files first: nothing is sent to the chat unless every upload worked.
  nlohmann::json attachments = nlohmann::json::array();
  for (const auto& file : options.files) {
    UploadFileOptions upload;
    upload.cancel = options.cancel;
    FileRef ref;
    switch (file.kind_) {
      case Attachment::Kind::file_ref:
        ref = file.file_;
        break;
      case Attachment::Kind::path:
        ref = detail::upload_file(core, detail::source_from_path(file.path_), upload);
        break;
      case Attachment::Kind::source:
        ref = detail::upload_file(core, detail::source_from_string(file.data_), upload);
        break;
      case Attachment::Kind::bytes:
        upload.filename = file.filename_;
        upload.content_type = file.content_type_;
        ref = detail::upload_file(core, detail::source_from_bytes(file.data_), upload);
        break;
    }
    attachments.push_back(detail::file_ref_json(ref));
  }

  const std::string existing = state_->current_chat();
  const WaitMode mode = options.mode.value_or(core.options().wait.mode);
  const int max_reconnects = options.max_reconnects.value_or(core.options().wait.max_reconnects);

  // The reader's token: the caller's cancel, or a failed handler, wakes it.
  CancellationToken wake;
  const auto forward = options.cancel.on_cancel([wake] { wake.cancel(); });
  detail::HandlerRunner runner(wake);
  detail::TurnFollower follower(*state_, options, runner, existing.empty());
  // Handlers and approval callbacks may still use the follower: they end before it does.
  struct JoinFirst {
    detail::HandlerRunner& runner;
    ~JoinFirst() { runner.join(); }
  } join_first{runner};

  std::unique_ptr<detail::ChatEventSource> source;
  const auto make_source = [&](const std::string& id) {
    return std::make_unique<detail::ChatEventSource>(state_->core, id, max_reconnects, wake,
                                                     deadline);
  };
  if (!existing.empty() && options.wait && mode == WaitMode::stream) {
    // Opened before the message goes out, so no update of the turn is missed.
    source = make_source(existing);
    source->open();
  }

  auto call =
      detail::agent_run_call(detail::run_body(state_->definition, existing, text, attachments));
  call.deadline = deadline;
  const detail::ApiResult posted = core.call(call, options.cancel);
  if (!posted.data.is_object()) throw DecodeError("POST /agents/run: expected an object");
  ChatMessage user = detail::message_from(posted.data, "user_message");
  ChatMessage assistant = detail::message_from(posted.data, "assistant_message");
  std::string chat_id = existing;
  if (chat_id.empty()) {
    chat_id = !assistant.chat_id.empty() ? assistant.chat_id : user.chat_id;
    if (chat_id.empty()) throw DecodeError("POST /agents/run: the answer names no chat");
    std::lock_guard lock(state_->mutex);
    if (state_->chat_id.empty()) state_->chat_id = chat_id;
  }
  follower.begin(chat_id, user, assistant);
  if (!options.wait) return follower.result();

  const auto fetch_chat = [&] {
    auto get = detail::get_chat_call(chat_id);
    get.deadline = deadline;
    follower.apply_chat(core.call(get, wake).data);
  };
  try {
    if (mode == WaitMode::stream) {
      if (!source) {
        source = make_source(chat_id);
        source->open();
        fetch_chat();  // the turn may have moved on before the stream was open
      }
      source->on_reopened(fetch_chat);
      while (!follower.over()) {
        follower.apply_event(source->next());
        runner.rethrow_error();
      }
    } else {
      const auto interval = options.poll_interval.value_or(core.options().wait.poll_interval);
      std::string last_seen;
      bool first = true;
      while (!follower.over()) {
        if (!first && wake.wait_for(interval)) throw CancelledError("the call was cancelled");
        first = false;
        runner.rethrow_error();
        if (deadline && Clock::now() >= *deadline) {
          throw TimeoutError("send_message: the deadline passed while the turn went on", true);
        }
        auto status_call = detail::chat_status_call(chat_id);
        status_call.deadline = deadline;
        const auto status = core.call(status_call, wake).data;
        const std::string seen = status.is_object()
                                     ? common::string_field_or(status, "status") + "@" +
                                           common::string_field_or(status, "updated_at")
                                     : std::string();
        if (seen == last_seen && !seen.empty()) continue;
        last_seen = seen;
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
  return follower.result();
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
  nlohmann::json value = {{"action", action.action}};
  if (!action.form_data.is_null()) value["form_data"] = action.form_data;
  submit_tool_result(invocation_id, value.dump());
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
  for (const auto& tool : options.tools) {
    if (tool.handler) state->handlers[tool.name()] = tool.handler;
  }
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
  if (agent_id.empty()) throw InvalidArgumentError("agents.get: the agent id is empty");
  detail::ApiCall call;
  call.path = "/agents/" + detail::encode_path_segment(agent_id);
  const auto result = core_->call(call);
  if (!result.data.is_object())
    throw DecodeError("GET /agents/" + agent_id + ": expected an agent");
  return AgentTemplate::from_json(result.data);
}

AgentList Agents::list(const nlohmann::json& request) const {
  detail::ApiCall call;
  call.method = "POST";
  call.path = "/agents/list";
  call.body = request.is_object() ? request : nlohmann::json::object();
  const auto result = core_->call(call);
  AgentList list;
  if (!result.data.is_object()) return list;
  list.raw = result.data;
  if (const auto* items = common::find_field(result.data, "items"); items && items->is_array()) {
    for (const auto& item : *items) list.items.push_back(AgentTemplate::from_json(item));
  }
  list.next_cursor = common::string_field_or(result.data, "next_cursor");
  if (const auto* more = common::find_field(result.data, "has_next"); more && more->is_boolean()) {
    list.has_next = more->get<bool>();
  }
  return list;
}

}  // namespace inferencesh
