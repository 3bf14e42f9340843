#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/cancellation.hpp"
#include "inferencesh/chat.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/files.hpp"
#include "inferencesh/tools.hpp"

namespace inferencesh {

namespace detail {
class ClientCore;
class ChatEventSource;
struct AgentState;
struct AttachmentAccess;
}  // namespace detail

/// The LLM app an ad-hoc agent thinks with. Converts from its ref: `.core_app = "ns/llm@v1"`.
struct CoreApp {
  std::string ref;
  nlohmann::json setup;  ///< one-time configuration of the app (left out when null)
  nlohmann::json input;  ///< default input values, e.g. {"temperature": 0.2} (left out when null)

  CoreApp() = default;
  CoreApp(std::string app_ref) : ref(std::move(app_ref)) {}  // NOLINT(google-explicit-constructor)
  CoreApp(const char* app_ref) : ref(app_ref) {}             // NOLINT(google-explicit-constructor)
  CoreApp(std::string app_ref, nlohmann::json app_setup, nlohmann::json app_input = nullptr)
      : ref(std::move(app_ref)), setup(std::move(app_setup)), input(std::move(app_input)) {}
};

/// An agent defined on the fly (`agent_config`), sent with every message; nothing is saved in
/// the workspace. Only `core_app` is required.
///
///     auto agent = client.agents.create(inf::AdHocAgentOptions{
///         .core_app = "infsh/claude-sonnet-4@abc123",
///         .system_prompt = "You are a helpful assistant.",
///         .tools = {weather_tool}});
struct AdHocAgentOptions {
  CoreApp core_app;
  std::string system_prompt;
  std::vector<Tool> tools;  ///< schemas are sent; handlers stay here and run client calls
  std::string name;         ///< servers reuse an ad-hoc agent of the same name
  std::string description;
  nlohmann::json internal_tools;  ///< e.g. inf::internal_tools().finish().build(); null: none
  nlohmann::json output_schema;   ///< JSON Schema of the finish tool's output; null: none
  std::vector<std::string> example_prompts;
  /// Per-chat variables that `{{context.NAME}}` templates in tool URLs resolve against.
  std::map<std::string, std::string> context;
  /// Further AgentConfig fields (skills, hooks, ...), merged into `agent_config` as given.
  nlohmann::json extra_config;
};

/// Options of an agent made from a template.
struct TemplateAgentOptions {
  std::map<std::string, std::string> context;  ///< as AdHocAgentOptions::context
};

/// A file sent with a message: a stored file (sent as is), or a local path, a `data:` URI or
/// bytes, uploaded before the message is sent.
class Attachment {
 public:
  Attachment(FileRef file);                // NOLINT(google-explicit-constructor)
  Attachment(std::filesystem::path path);  // NOLINT(google-explicit-constructor)
  /// A local path or a `data:` URI (decided as files.upload does).
  Attachment(std::string source);  // NOLINT(google-explicit-constructor)
  Attachment(const char* source) : Attachment(std::string(source)) {}  // NOLINT
  /// Bytes in memory, with an optional file name and content type.
  static Attachment bytes(std::string data, std::string filename = {},
                          std::string content_type = {});

 private:
  friend struct detail::AttachmentAccess;
  Attachment() = default;
  enum class Kind { file_ref, path, source, bytes } kind_ = Kind::source;
  FileRef file_;
  std::filesystem::path path_;
  std::string data_;
  std::string filename_;
  std::string content_type_;
};

/// Text streamed into an assistant message (a `delta` event), with everything accumulated so
/// far for that message.
struct ChatDelta {
  std::string message_id;
  std::int64_t seq = 0;
  nlohmann::json delta;   ///< this piece, as sent
  nlohmann::json output;  ///< the message's accumulated output: response, reasoning, tool_calls
  std::string text;       ///< output.response so far
  std::string reasoning;  ///< output.reasoning so far
};

/// What to do with a tool call that needs approval.
struct ApprovalDecision {
  enum class Kind { approve, reject, always_allow, later };
  Kind kind = Kind::later;
  std::string reason;  ///< for reject

  static ApprovalDecision approve() { return {Kind::approve, {}}; }
  static ApprovalDecision reject(std::string why = {}) { return {Kind::reject, std::move(why)}; }
  /// Approves it and every later call of the same tool in this chat.
  static ApprovalDecision always_allow() { return {Kind::always_allow, {}}; }
  /// Leaves it waiting: send_message returns it in `pending_approvals`.
  static ApprovalDecision later() { return {Kind::later, {}}; }
};

/// Options of Agent::send_message. All optional.
struct SendMessageOptions {
  std::vector<Attachment> files;  ///< uploaded first where needed, sent as `attachments`
  /// Every update of a message of the turn (full message).
  std::function<void(const ChatMessage& message)> on_message;
  /// Every update of the chat (status, output, ...).
  std::function<void(const Chat& chat)> on_chat;
  /// Every client tool call, once per call; then its handler (if the tool has one) runs.
  std::function<void(const ToolInvocation& call)> on_tool_call;
  /// Streamed text of assistant messages (stream mode only).
  std::function<void(const ChatDelta& delta)> on_delta;
  /// Decides on calls that need approval; runs off the stream's reading, may block. Without
  /// it, such calls end the wait and are returned in `pending_approvals`.
  std::function<ApprovalDecision(const ToolInvocation& call)> on_approval;
  /// false: return right after the message was accepted, without following the turn.
  bool wait = true;
  std::optional<WaitMode> mode;  ///< stream (default) or poll
  std::optional<std::chrono::milliseconds> poll_interval;
  std::optional<int> max_reconnects;
  /// Longest the whole call may take; past it a TimeoutError (the turn goes on).
  std::optional<std::chrono::milliseconds> deadline;
  CancellationToken cancel;
};

/// The outcome of one message: both messages and where the turn stands.
struct AgentResponse {
  ChatMessage user_message;
  /// The turn's last assistant message (its answer when the turn ended).
  ChatMessage assistant_message;
  /// The chat as last seen; `messages` holds the messages of this turn.
  Chat chat;
  /// Client tool calls without a handler, waiting for submit_tool_result.
  std::vector<ToolInvocation> pending_tool_calls;
  /// Calls waiting for approve / reject / always_allow.
  std::vector<ToolInvocation> pending_approvals;

  /// True when nothing is left waiting on this program.
  bool turn_ended() const noexcept {
    return pending_tool_calls.empty() && pending_approvals.empty();
  }
  /// The assistant message's text.
  std::string text() const { return assistant_message.text(); }
};

/// A widget's action, submitted as a tool result (sent as its JSON text).
struct ToolAction {
  nlohmann::json action;     ///< e.g. {"type": "confirm", "payload": {...}}
  nlohmann::json form_data;  ///< the form's values, null when none
};

/// How long-lived chat streams reconnect. Unset fields take ClientOptions::wait.
struct ChatStreamOptions {
  std::optional<int> max_reconnects;
  CancellationToken cancel;
};

/// The updates of a chat as a move-only input range: `T` is ChatMessage (stream_messages) or
/// Chat (stream_chat). It follows the chat until closed, reopening the connection when it ends
/// or breaks (StreamError after max_reconnects connections in a row brought nothing).
template <class T>
class ChatUpdates {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    iterator() = default;
    reference operator*() const { return *stream_->current_; }
    pointer operator->() const { return &**this; }
    iterator& operator++() {
      if (stream_->next() == nullptr) stream_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.stream_ == b.stream_;
    }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

   private:
    friend class ChatUpdates;
    explicit iterator(ChatUpdates* updates) : stream_(updates) {}
    ChatUpdates* stream_ = nullptr;
  };

  ChatUpdates(ChatUpdates&&) noexcept;
  ChatUpdates& operator=(ChatUpdates&&) noexcept;
  ~ChatUpdates();

  iterator begin() { return next() != nullptr ? iterator(this) : iterator(); }
  iterator end() noexcept { return {}; }
  /// Blocks for the next update; nullptr once closed.
  const T* next();
  /// Stops following and closes the connection.
  void close();

 private:
  friend class Agent;
  explicit ChatUpdates(std::unique_ptr<detail::ChatEventSource> source);
  std::unique_ptr<detail::ChatEventSource> source_;
  std::optional<T> current_;
};

using MessageStream = ChatUpdates<ChatMessage>;
using ChatStream = ChatUpdates<Chat>;

/// A conversation with an agent. Made by client.agents.create(); nothing is sent until the
/// first message. Holds the chat id; reset() starts a new chat. Move-only. One send_message at
/// a time; the other calls may come from any thread.
///
///     auto agent = client.agents.create("my-org/assistant@abc123");
///     inf::AgentResponse reply = agent.send_message("Hello!");
///     std::cout << reply.text() << "\n";
class Agent {
 public:
  Agent(Agent&&) noexcept;
  Agent& operator=(Agent&&) noexcept;
  ~Agent();

  /// Sends a message and follows the turn until it ends (the chat is no longer busy) or waits
  /// on this program (client tools without a handler, approvals without on_approval). Client
  /// tools with a handler run on their own threads and their results are submitted; a handler
  /// that throws submits `{"error": "<what()>"}`.
  AgentResponse send_message(const std::string& text, const SendMessageOptions& options = {});

  /// Sends a message, waits for the turn and returns the chat's `output` (the finish tool's
  /// result; null when the agent gave none).
  nlohmann::json run(const std::string& text, const SendMessageOptions& options = {});

  /// The chat (`chat_id`, default: this agent's), with its messages; nullopt without a chat.
  std::optional<Chat> get_chat(const std::string& chat_id = {}) const;
  /// Stops the chat's current turn; does nothing without a chat.
  void stop_chat(const std::string& chat_id = {}) const;

  /// Submits the result of a client tool call.
  void submit_tool_result(const std::string& invocation_id, const std::string& result) const;
  /// Submits a widget action as the result of a tool call.
  void submit_tool_result(const std::string& invocation_id, const ToolAction& action) const;
  /// Approves a call waiting for approval.
  void approve(const std::string& invocation_id) const;
  /// Refuses a call waiting for approval; the agent is told `reason`.
  void reject(const std::string& invocation_id, const std::string& reason = {}) const;
  /// Approves the call and every later call of `tool_name` in this chat; nothing without a chat.
  void always_allow(const std::string& invocation_id, const std::string& tool_name) const;

  /// The chat's message updates as a range (until closed). The connection is open when it is
  /// returned, so nothing after the call is missed. Throws InvalidArgumentError without a chat.
  MessageStream stream_messages(const ChatStreamOptions& options = {}) const;
  /// The chat's own updates (status, output, ...) as a range (until closed).
  ChatStream stream_chat(const ChatStreamOptions& options = {}) const;

  /// Forgets the chat: the next message starts a new one. Sends nothing.
  void reset();
  /// The current chat's id; empty before the first message.
  std::string chat_id() const;

 private:
  friend class Agents;
  explicit Agent(std::unique_ptr<detail::AgentState> state);
  std::unique_ptr<detail::AgentState> state_;
};

/// A saved agent (template) of the workspace.
struct AgentTemplate {
  std::string id;
  std::string name;
  std::string namespace_name;  ///< `namespace`
  nlohmann::json raw = nlohmann::json::object();

  static AgentTemplate from_json(const nlohmann::json& object);
};

/// One page of agents.
struct AgentList {
  std::vector<AgentTemplate> items;
  std::string next_cursor;
  bool has_next = false;
  nlohmann::json raw = nlohmann::json::object();
};

/// The Agents API. Reached as `client.agents`.
class Agents {
 public:
  /// An agent from a template, `"namespace/name@version"`.
  Agent create(const std::string& agent_ref, const TemplateAgentOptions& options = {}) const;
  Agent create(const char* agent_ref, const TemplateAgentOptions& options = {}) const {
    return create(std::string(agent_ref), options);
  }
  /// An ad-hoc agent. Throws InvalidArgumentError without a core_app.
  Agent create(const AdHocAgentOptions& options) const;

  /// A saved agent by id.
  AgentTemplate get(const std::string& agent_id) const;
  /// Saved agents; `request` is the list request (cursor, limit, filters, ...).
  AgentList list(const nlohmann::json& request = nlohmann::json::object()) const;

 private:
  friend class Client;
  explicit Agents(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::ClientCore> core_;
};

extern template class ChatUpdates<ChatMessage>;
extern template class ChatUpdates<Chat>;

}  // namespace inferencesh
