#pragma once

// Chats and the agent loop. A turn: the user message is stored `ready`, an assistant message
// `pending`, and the agent's core app runs as an ordinary task of the TaskEngine (its id in the
// message's task_id) with the chat contract's input (include/infsh/llm.hpp: system prompt,
// context messages, the new message, the tools in OpenAI function format). Its partial outputs
// reach the chat's streams as `delta` events and message updates; the tool calls of its answer
// become tool invocations on the message, run by type (client, app, agent, http, hook, mcp,
// internal); once all are settled the next step starts with their results, until the core
// answers without tool calls, calls `finish`, or the step cap ends the turn.
//
// Threads. Endpoint handlers call in on the event loop; everything the tasks of the TaskEngine
// report is handed to one loop thread of the engine's own (a SerialExecutor), and outgoing HTTP
// of tools runs on a small pool, whose results go back to the loop thread. One lock orders all
// changes. Events are queued under it in that order and handed to observers (chat streams) by
// the loop thread alone: a stream's bytes then reach the event loop from one thread, in order
// (posts made on the event loop itself would otherwise overtake them). The engine calls the
// TaskEngine while holding its lock; the TaskEngine never calls back under its own lock except
// through observers that only post to the loop thread.
//
// Durability: every change of a chat, message or invocation is written before the call that
// made it returns, except streamed text, which is written when its step ends.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/worker_pool.hpp"
#include "chats/agent_catalog.hpp"
#include "chats/chat_records.hpp"
#include "chats/chat_store.hpp"
#include "http/base_url.hpp"
#include "infsh/local/app.hpp"
#include "support/logger.hpp"
#include "support/serial_executor.hpp"
#include "tasks/task_engine.hpp"

namespace infsh::local {

class ToolRequests;

/// The value of the secret called `name` (http tools' `${{secrets.NAME}}` and auth), or nullopt.
using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;

struct ChatEngineOptions {
  /// Core calls in one turn; the turn fails with a message saying so beyond it.
  int max_steps = 32;
  /// How deep sub-agents (agent tools) may nest below a chat started by a client.
  int max_depth = 3;
  /// Chats kept in memory while nothing happens in them (older ones are read back).
  std::size_t max_cached_chats = 1024;
  /// Where http tools find their secrets; none are known when empty.
  SecretLookup secret;
  /// How long a turn of a chat nobody streams waits for a stream before its core starts. The
  /// Python SDK (and the JS one, for a new chat) opens the stream after POST /agents/run: a
  /// turn over before then would leave it waiting for an end it never sees. Zero: no wait.
  std::chrono::milliseconds stream_grace{1000};
  /// A turn that ran to its end with nobody watching (its grace ran out before the client's
  /// stream arrived, as happens under load): the first stream opened within this time after
  /// its end still gets the turn's messages and the idle chat, as it would have during the
  /// turn. Later, or once the chat was read, a stream of an idle chat gets nothing on connect.
  std::chrono::milliseconds unseen_turn_replay{60000};
};

class ChatEngine {
 public:
  /// Receives a chat's stream events: `event` is "chats", "chat_messages" or "delta", `data`
  /// its JSON text. Called on the engine's loop thread, in order, possibly after unsubscribe:
  /// must only queue. An empty `event` ends the stream (the chat was deleted, or the runtime is
  /// stopping).
  using Observer = std::function<void(std::string_view event, const std::string& data)>;

  /// `base_url` is the runtime's own URL, for the callback URLs of hook tools.
  ChatEngine(ChatStore& store, AgentCatalog& agents, TaskEngine& tasks, const AppRegistry& apps,
             ToolRequests& requests, const BaseUrl& base_url, const Logger& log,
             ChatEngineOptions options = {});
  ~ChatEngine();
  ChatEngine(const ChatEngine&) = delete;
  ChatEngine& operator=(const ChatEngine&) = delete;

  /// Fails the turns a previous runtime left running (ChatStore::recover_interrupted_turns) and
  /// starts the messages it left queued. Call once, before serving.
  void start();
  /// Refuses new turns (503), leaves turns under way as they are (the next runtime on the data
  /// directory fails them), and ends every chat stream.
  void begin_shutdown();
  /// Runs what the loop thread has queued, then stops it. After begin_shutdown and after the
  /// TaskEngine's tasks have ended.
  void stop();

  // ---- chats (each throws ApiProblem: 404 unknown, 409 conflicts, 503 when stopping)
  /// A new chat with `agent` (and `parent` for a sub-agent's chat). Returns its ChatDTO.
  nlohmann::json create_chat(const AgentChoice& agent, nlohmann::json context, std::string name);

  struct Sent {
    nlohmann::json user_message;       ///< ChatMessageDTO
    nlohmann::json assistant_message;  ///< ChatMessageDTO
  };
  /// Adds a user message and starts its turn; queued (both messages `queued`) while the chat is
  /// in a turn. `agent`, when given, replaces the chat's agent for this and later turns;
  /// `context` entries are merged into the chat's context map.
  Sent send(const std::string& chat_id, TurnInput input, const std::optional<AgentChoice>& agent,
            const nlohmann::json& context);

  /// ChatDTO with chat_messages. A client reading the chat is watching it: a turn held for a
  /// stream (stream_grace) starts, as for a stream (a polling client never opens one).
  nlohmann::json chat(const std::string& id);
  nlohmann::json chat_status(const std::string& id);  ///< ResourceStatusDTO; starts a held turn too
  /// The full id of a chat given by id or short id, without counting as a read (404).
  std::string resolve_id(const std::string& id_or_short_id) const;
  /// A page of messages, newest first across pages: those ordered before `before` (all when
  /// unset), at most `limit`, ascending within the page. {items, next_cursor, has_next}.
  nlohmann::json messages(const std::string& id, std::size_t limit,
                          std::optional<std::int64_t> before) const;
  /// POST /chats/list: {items, next_cursor, prev_cursor, has_next, has_previous,
  /// items_per_page, total_items}, newest first, ChatDTOs without their messages.
  nlohmann::json list(const ChatStore::ChatQuery& query) const;
  /// Renames (and re-describes) a chat; returns its ChatDTO.
  nlohmann::json update(const std::string& id, const std::optional<std::string>& name,
                        const std::optional<std::string>& description);
  /// Changes the agent of a chat (for later turns); returns its ChatDTO.
  nlohmann::json set_agent(const std::string& id, const AgentChoice& agent);
  /// Stops the chat's turn (its core task cancelled, the step's message `cancelled`, waiting
  /// tools cancelled, queued messages cancelled) and deletes it with its messages.
  void remove(const std::string& id);
  /// Stops the chat's turn as above; the chat is idle after it. Nothing happens to an idle chat
  /// (its queued messages are cancelled all the same).
  void stop_chat(const std::string& id);
  /// Cancels a queued message (and its assistant message); 409 when it is not queued.
  nlohmann::json cancel_message(const std::string& message_id);

  // ---- tools (each throws ApiProblem: 404 unknown invocation, 409 when not waiting so)
  /// A client tool's result (or a hook's, through its callback): completes an invocation in
  /// awaiting_input and lets the turn go on.
  void submit_result(const std::string& invocation_id, std::string result);
  /// A hook's callback: like submit_result, for an in_progress hook invocation with `token`.
  void hook_callback(const std::string& invocation_id, const std::string& token,
                     std::string result);
  /// Approves an invocation in awaiting_approval: it runs now.
  void approve(const std::string& invocation_id);
  /// Refuses it: it fails with `reason`, which the core is told.
  void reject(const std::string& invocation_id, const std::string& reason);
  /// Approves it and every later call of `tool_name` in the chat (agent_data.always_allowed_tools).
  void always_allow(const std::string& chat_id, const std::string& invocation_id,
                    const std::string& tool_name);

  /// Subscribes to a chat's events. An idle chat sends nothing on connect (a client that opens
  /// the stream before it sends would take it for the end of its turn) unless its last turn
  /// ended unwatched (unseen_turn_replay); a chat in a turn sends the turn's messages and its
  /// status first. A turn held for a stream (stream_grace) starts.
  /// nullopt for an unknown chat.
  std::optional<std::uint64_t> subscribe(const std::string& chat_id, Observer observer);
  void unsubscribe(const std::string& chat_id, std::uint64_t subscription);

  /// Chats in a turn now.
  std::size_t busy_count() const;
  /// Chats held in memory.
  std::size_t cached_count() const;

 private:
  struct ChatState;
  struct ToolDone;

  // ---- state (lock held)
  ChatState* find_locked(const std::string& id_or_short_id) const;
  ChatState& get_locked(const std::string& id_or_short_id) const;  // 404
  ChatState& load_invocation_locked(const std::string& invocation_id,
                                    ToolInvocationRecord*& invocation) const;  // 404
  MessageRecord* message_locked(ChatState& state, const std::string& id) const;
  void trim_cache_locked();
  nlohmann::json chat_dto_locked(const ChatState& state, bool with_messages) const;
  std::int64_t next_order_locked(const ChatState& state) const;
  void touch_locked(ChatRecord& chat);
  void touch_locked(MessageRecord& message);

  // ---- events (lock held)
  // Queues `data` for `observer`, to be handed over by the loop thread.
  void deliver_locked(const std::shared_ptr<Observer>& observer, std::string_view event,
                      std::shared_ptr<const std::string> data);
  void flush_outbox();  // loop thread
  void emit_locked(ChatState& state, std::string_view event, const std::string& data);
  void emit_chat_locked(ChatState& state);
  void emit_message_locked(ChatState& state, const MessageRecord& message);

  // ---- saving (lock held)
  void save_locked(const ChatRecord& chat);
  void save_locked(const MessageRecord& message);
  void save_locked(const ToolInvocationRecord& invocation);

  // ---- the loop (agent_loop.cpp; lock held unless said otherwise)
  void post(std::function<void()> job);
  void begin_turn_locked(ChatState& state, MessageRecord& user, MessageRecord& assistant);
  void run_step(const std::string& chat_id);  // loop thread, takes the lock
  void start_step_locked(ChatState& state);
  // What the engine reads of a task it follows.
  struct TaskView {
    std::string id;
    int status = 0;  // TaskStatus
    nlohmann::json output;
    std::string error;
    std::string session_id;
  };
  void on_core_update(const std::string& chat_id, const std::string& message_id,
                      const TaskView& task, bool terminal);  // loop thread
  void finish_step_locked(ChatState& state, MessageRecord& message, const nlohmann::json& output);
  void dispatch_locked(ChatState& state, ToolInvocationRecord& invocation);
  void execute_locked(ChatState& state, ToolInvocationRecord& invocation);
  void settle_locked(ChatState& state, ToolInvocationRecord& invocation, InvocationStatus status,
                     std::string result, nlohmann::json data = nullptr);
  void on_tool_done(const ToolDone& done);  // loop thread
  void advance_locked(ChatState& state);
  void fail_turn_locked(ChatState& state, const std::string& error);
  void end_turn_locked(ChatState& state);
  void stop_turn_locked(ChatState& state, const std::string& why);
  void cancel_queued_locked(ChatState& state);
  void start_next_queued_locked(ChatState& state);
  void update_status_locked(ChatState& state);
  void on_child_turn_end_locked(ChatState& child);
  nlohmann::json core_input_locked(const ChatState& state) const;
  // Tool types.
  void run_app_tool_locked(ChatState& state, ToolInvocationRecord& invocation,
                           const nlohmann::json& tool);
  void run_agent_tool_locked(ChatState& state, ToolInvocationRecord& invocation,
                             const nlohmann::json& tool);
  void run_request_tool_locked(ChatState& state, ToolInvocationRecord& invocation,
                               const nlohmann::json& tool);
  void run_internal_tool_locked(ChatState& state, ToolInvocationRecord& invocation);
  // Starts the step of a new turn now, or once a stream attaches (at most stream_grace later).
  void start_turn_step_locked(ChatState& state);
  void release_held(const std::string& chat_id);  // loop thread
  // Someone watches the chat (a stream, a poll): a turn held for a stream starts now.
  void start_held_locked(ChatState& state);
  // Hands `observer` the messages of the turn starting at `first_message_id`, then the chat.
  void send_turn_locked(ChatState& state, const std::shared_ptr<Observer>& observer,
                        const std::string& first_message_id);
  void run_timers();  // the timer thread
  // Subscribes to a task: each change is handed to `handle` on the loop thread.
  void follow_task(const std::string& task_id,
                   std::function<void(const TaskView& task, bool terminal)> handle);

  ChatStore& store_;
  AgentCatalog& agents_;
  TaskEngine& tasks_;
  const AppRegistry& apps_;
  ToolRequests& requests_;
  const BaseUrl& base_url_;
  const Logger& log_;
  const ChatEngineOptions options_;

  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::unique_ptr<ChatState>> chats_;
  mutable std::uint64_t clock_ = 0;  // for the cache's least-recently-used order
  std::uint64_t next_subscription_ = 1;
  bool shutting_down_ = false;
  std::atomic<bool> loop_stopped_{false};
  SerialExecutor loop_;

  // Events waiting for the loop thread to hand them over, in order.
  struct Outgoing {
    std::shared_ptr<Observer> observer;
    std::string event;
    std::shared_ptr<const std::string> data;
  };
  std::mutex outbox_mutex_;
  std::vector<Outgoing> outbox_;
  bool outbox_scheduled_ = false;

  // Turns held for a stream, in the order their grace ends (it is the same for all).
  std::mutex timer_mutex_;
  std::condition_variable timer_wake_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> timers_;
  bool timer_stopping_ = false;
  std::thread timer_thread_;
};

}  // namespace infsh::local
