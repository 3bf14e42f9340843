#pragma once

// The rules of one agent turn, without I/O: the run request, the POST's answer, stream events
// and fetched chats merged into the turn, when the turn is over (the newest SDK rules: busy or
// awaiting_input is not over, the turn gate of an existing chat) or waits on this program, which
// client tool calls and approvals to hand to their handlers (each once per send), the calls that
// carry out their outcomes, polling's change test and the deadline. The blocking Agent and the
// async client's agent drive the same core, each with its own I/O and its own threads for the
// handlers.
//
// Threads: everything runs on the driver's thread (the reading thread, or the loop thread),
// except release(), which may come from a handler's thread.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent_operations.hpp"
#include "client_core.hpp"
#include "delta_accumulator.hpp"
#include "inferencesh/agents.hpp"
#include "stream_event.hpp"

namespace inferencesh::detail {

/// Work the turn hands to its driver, to run off the stream's reading.
struct TurnWork {
  enum class Kind {
    tool,      ///< run the client tool's handler, submit its result (tool_result_call)
    approval,  ///< ask on_approval, then carry out its decision (decision_call)
  };
  Kind kind = Kind::tool;
  ToolInvocation invocation;
  ToolHandlers handlers;  ///< the tool's, for Kind::tool
};

class TurnFollowCore {
 public:
  using Clock = std::chrono::steady_clock;

  /// A turn of a chat (`existing_chat`; empty: the message starts a new one), sent at
  /// `started` with `options`' callbacks and settings. `handlers` are the agent's client tools.
  TurnFollowCore(std::shared_ptr<const ClientCore> core, const SendMessageOptions& options,
                 ToolHandlerMap handlers, std::string existing_chat, Clock::time_point started);

  // --- settings -------------------------------------------------------------------------------

  bool waits() const noexcept { return wait_; }
  /// The chat the turn was sent to; empty when the message starts a new one.
  const std::string& existing_chat() const noexcept { return existing_; }
  bool new_chat() const noexcept { return existing_.empty(); }
  WaitMode mode() const noexcept { return mode_; }
  std::chrono::milliseconds poll_interval() const noexcept { return poll_interval_; }
  int max_reconnects() const noexcept { return max_reconnects_; }
  std::optional<Clock::time_point> deadline() const noexcept { return deadline_; }
  /// For an existing chat followed by its stream, the stream is opened before the message is
  /// sent, so that no update of the turn is missed.
  bool stream_before_post() const noexcept {
    return !existing_.empty() && wait_ && mode_ == WaitMode::stream;
  }
  /// A new chat's stream opens only after the POST named the chat: the chat is then fetched
  /// once, as after every reconnect, since the turn may have moved on before the stream opened.
  bool fetch_after_open() const noexcept { return existing_.empty(); }

  // --- the message ----------------------------------------------------------------------------

  /// POST /agents/run for `text` with `attachments` (FileRef objects), within the deadline.
  ApiCall run_call(const AgentDefinition& agent, const std::string& text,
                   const nlohmann::json& attachments) const;
  /// Takes in the POST's answer (both messages; the new chat's id). Throws DecodeError when it
  /// lacks them.
  void begin(const ApiResult& posted);
  /// The chat of the turn: known once begun.
  const std::string& chat_id() const noexcept { return chat_id_; }

  // --- following ------------------------------------------------------------------------------

  /// GET /chats/{id} and GET /chats/{id}/status, within the deadline.
  ApiCall fetch_call() const;
  ApiCall status_call() const;
  /// Polling: true when the polled status (status and updated_at) differs from the last one,
  /// so the chat is fetched (JS compares the status alone and can miss a whole tool call).
  bool status_changed(const ApiResult& status);
  /// True once the deadline passed; deadline_error() is what the wait then ends with.
  bool deadline_passed() const;
  TimeoutError deadline_error() const;

  /// One decoded stream event: messages, the chat's state, the active run, deltas.
  void apply_event(const StreamEvent& event);
  /// A whole chat (GET /chats/{id}): its messages of this turn and its state.
  void apply_chat(const nlohmann::json& chat);
  /// The handlers and approvals the last events called for, each once per send.
  std::vector<TurnWork> take_work();

  /// True when the turn is over: the chat seen not busy (and the gate settled), or
  /// awaiting_input only on calls nobody here is handling.
  bool over() const;
  /// The outcome: both messages, the chat as last seen, and the calls left waiting.
  AgentResponse result() const;

  // --- outcomes of the work -------------------------------------------------------------------

  /// The call that submits a handler's result text.
  static ApiCall result_call(const ToolInvocation& call, const std::string& result);
  /// The call that carries out `decision`; nullopt for later(), which releases the call (it is
  /// waiting on this program again and ends the wait).
  std::optional<ApiCall> decision_call(const ToolInvocation& call,
                                       const ApprovalDecision& decision);
  /// Nobody here handles `invocation_id` any longer. Any thread.
  void release(const std::string& invocation_id);

 private:
  void store(const ChatMessage& message, bool notify);
  void apply_message(const ChatMessage& message, bool notify);
  void apply_chat_state();
  void apply_delta(const nlohmann::json& data);
  void dispatch(const ChatMessage& message);
  void mark_handled(const std::string& id);

  std::shared_ptr<const ClientCore> core_;
  ToolHandlerMap handlers_;
  std::string existing_;
  bool wait_;
  WaitMode mode_;
  std::chrono::milliseconds poll_interval_;
  int max_reconnects_;
  std::optional<Clock::time_point> deadline_;
  std::function<void(const ChatMessage&)> on_message_;
  std::function<void(const Chat&)> on_chat_;
  std::function<void(const ToolInvocation&)> on_tool_call_;
  std::function<void(const ChatDelta&)> on_delta_;
  bool has_on_approval_;

  bool gate_settled_;
  bool chat_seen_ = false;
  std::string chat_id_;
  ChatMessage user_;
  std::string assistant_id_;
  ChatMessage first_assistant_;
  std::unordered_map<std::string, ChatMessage> messages_;
  nlohmann::json chat_json_ = nlohmann::json::object();
  std::unordered_map<std::string, DeltaAccumulator> accumulators_;
  std::set<std::string> dispatched_;
  std::set<std::string> approvals_;
  std::vector<TurnWork> work_;
  std::string last_polled_;

  mutable std::mutex mutex_;
  std::set<std::string> handled_;  // calls a handler or on_approval is taking care of
};

}  // namespace inferencesh::detail
