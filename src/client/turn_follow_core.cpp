#include "turn_follow_core.hpp"

#include <algorithm>
#include <utility>

#include "common/json_fields.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh::detail {

using nlohmann::json;

namespace {

void merge_into(json& target, const json& update) {
  if (!target.is_object()) target = json::object();
  if (!update.is_object()) return;
  for (const auto& [key, value] : update.items()) target[key] = value;
}

}  // namespace

TurnFollowCore::TurnFollowCore(std::shared_ptr<const ClientCore> core,
                               const SendMessageOptions& options, ToolHandlerMap handlers,
                               std::string existing_chat, Clock::time_point started)
    : core_(std::move(core)),
      handlers_(std::move(handlers)),
      existing_(std::move(existing_chat)),
      wait_(options.wait),
      mode_(options.mode.value_or(core_->options().wait.mode)),
      poll_interval_(options.poll_interval.value_or(core_->options().wait.poll_interval)),
      max_reconnects_(options.max_reconnects.value_or(core_->options().wait.max_reconnects)),
      on_message_(options.on_message),
      on_chat_(options.on_chat),
      on_tool_call_(options.on_tool_call),
      on_delta_(options.on_delta),
      has_on_approval_(static_cast<bool>(options.on_approval)),
      // The turn gate: for an existing chat the end waits until the chat was seen busy or the
      // message's answer reached a terminal status, so an idle snapshot from before the
      // message cannot end it.
      gate_settled_(existing_.empty()) {
  if (options.deadline) deadline_ = started + *options.deadline;
}

// --- the message ------------------------------------------------------------------------------

ApiCall TurnFollowCore::run_call(const AgentDefinition& agent, const std::string& text,
                                 const json& attachments) const {
  auto call = agent_run_call(run_body(agent, existing_, text, attachments));
  call.deadline = deadline_;
  return call;
}

void TurnFollowCore::begin(const ApiResult& posted) {
  if (!posted.data.is_object()) throw DecodeError("POST /agents/run: expected an object");
  ChatMessage user = message_from(posted.data, "user_message");
  ChatMessage assistant = message_from(posted.data, "assistant_message");
  chat_id_ = existing_;
  if (chat_id_.empty()) {
    chat_id_ = !assistant.chat_id.empty() ? assistant.chat_id : user.chat_id;
    if (chat_id_.empty()) throw DecodeError("POST /agents/run: the answer names no chat");
  }
  user_ = std::move(user);
  assistant_id_ = assistant.id;
  first_assistant_ = assistant;
  store(assistant, false);
}

// --- following --------------------------------------------------------------------------------

ApiCall TurnFollowCore::fetch_call() const {
  auto call = get_chat_call(chat_id_);
  call.deadline = deadline_;
  return call;
}

ApiCall TurnFollowCore::status_call() const {
  auto call = chat_status_call(chat_id_);
  call.deadline = deadline_;
  return call;
}

bool TurnFollowCore::status_changed(const ApiResult& status) {
  const std::string seen = status.data.is_object()
                               ? common::string_field_or(status.data, "status") + "@" +
                                     common::string_field_or(status.data, "updated_at")
                               : std::string();
  if (seen == last_polled_ && !seen.empty()) return false;
  last_polled_ = seen;
  return true;
}

bool TurnFollowCore::deadline_passed() const { return deadline_ && Clock::now() >= *deadline_; }

TimeoutError TurnFollowCore::deadline_error() const {
  return {"send_message: the deadline passed while the turn went on", true};
}

void TurnFollowCore::apply_event(const StreamEvent& event) {
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

void TurnFollowCore::apply_chat(const json& chat) {
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

std::vector<TurnWork> TurnFollowCore::take_work() {
  std::vector<TurnWork> work;
  work.swap(work_);
  return work;
}

bool TurnFollowCore::over() const {
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

AgentResponse TurnFollowCore::result() const {
  AgentResponse response;
  response.user_message = user_;
  std::vector<ChatMessage> turn;
  turn.reserve(messages_.size());
  for (const auto& [id, message] : messages_) turn.push_back(message);
  std::stable_sort(turn.begin(), turn.end(),
                   [](const ChatMessage& a, const ChatMessage& b) { return a.order < b.order; });
  response.assistant_message = first_assistant_;
  for (const auto& message : turn) {
    if (message.role == "assistant") response.assistant_message = message;
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& message : turn) {
      for (const auto& invocation : message.tool_invocations) {
        if (handled_.count(invocation.id) > 0) continue;
        if (invocation.awaits_client_result()) response.pending_tool_calls.push_back(invocation);
        if (invocation.awaits_approval()) response.pending_approvals.push_back(invocation);
      }
    }
  }
  json chat = chat_json_;
  if (!chat.contains("id")) chat["id"] = chat_id_;
  response.chat = Chat::from_json(chat);
  response.chat.messages = std::move(turn);
  return response;
}

// --- outcomes of the work ---------------------------------------------------------------------

ApiCall TurnFollowCore::result_call(const ToolInvocation& call, const std::string& result) {
  return tool_result_call(call.id, result);
}

std::optional<ApiCall> TurnFollowCore::decision_call(const ToolInvocation& call,
                                                     const ApprovalDecision& decision) {
  switch (decision.kind) {
    case ApprovalDecision::Kind::approve:
      return approve_call(call.id);
    case ApprovalDecision::Kind::reject:
      return reject_call(call.id, decision.reason);
    case ApprovalDecision::Kind::always_allow:
      return always_allow_call(chat_id_, call.id, call.name);
    case ApprovalDecision::Kind::later:
      break;
  }
  release(call.id);
  return std::nullopt;
}

void TurnFollowCore::release(const std::string& invocation_id) {
  std::lock_guard lock(mutex_);
  handled_.erase(invocation_id);
}

// --- private ----------------------------------------------------------------------------------

void TurnFollowCore::store(const ChatMessage& message, bool notify) {
  messages_[message.id] = message;
  if (notify && on_message_) on_message_(message);
}

void TurnFollowCore::apply_message(const ChatMessage& message, bool notify) {
  if (message.id.empty()) return;
  if (!message.chat_id.empty() && !chat_id_.empty() && message.chat_id != chat_id_) return;
  if (message.id == user_.id) {
    user_ = message;
    if (notify && on_message_) on_message_(message);
    return;
  }
  store(message, notify);
  if (message.id == assistant_id_ && message.is_terminal()) gate_settled_ = true;
  if (message.is_terminal()) accumulators_.erase(message.id);
  dispatch(message);
}

void TurnFollowCore::apply_chat_state() {
  chat_seen_ = true;
  const Chat chat = Chat::from_json(chat_json_);
  if (chat.is_busy()) gate_settled_ = true;
  if (on_chat_) on_chat_(chat);
}

void TurnFollowCore::apply_delta(const json& data) {
  if (!data.is_object()) return;
  const std::string resource = common::string_field_or(data, "resource_id");
  const json* delta = common::find_field(data, "delta");
  if (resource.empty() || delta == nullptr) return;
  DeltaAccumulator& accumulator = accumulators_[resource];
  accumulator.add(*delta);
  if (!on_delta_) return;
  ChatDelta piece;
  piece.message_id = resource;
  piece.seq = common::integer_field_or(data, "seq");
  piece.delta = *delta;
  piece.output = accumulator.output();
  piece.text = common::string_field_or(piece.output, "response");
  piece.reasoning = common::string_field_or(piece.output, "reasoning");
  on_delta_(piece);
}

void TurnFollowCore::dispatch(const ChatMessage& message) {
  for (const auto& invocation : message.tool_invocations) {
    if (invocation.id.empty()) continue;
    if (invocation.awaits_client_result()) {
      if (!dispatched_.insert(invocation.id).second) continue;
      if (on_tool_call_) on_tool_call_(invocation);
      const auto handler = handlers_.find(invocation.name);
      if (handler == handlers_.end() || !handler->second) continue;
      mark_handled(invocation.id);
      work_.push_back(TurnWork{TurnWork::Kind::tool, invocation, handler->second});
    } else if (invocation.awaits_approval()) {
      if (!approvals_.insert(invocation.id).second || !has_on_approval_) continue;
      mark_handled(invocation.id);
      work_.push_back(TurnWork{TurnWork::Kind::approval, invocation, {}});
    }
  }
}

void TurnFollowCore::mark_handled(const std::string& id) {
  std::lock_guard lock(mutex_);
  handled_.insert(id);
}

}  // namespace inferencesh::detail
