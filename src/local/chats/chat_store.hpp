#pragma once

// Where agents, chats, chat messages and tool invocations are kept: the database's tables of
// schema version 2. Every call writes (or reads) at once, in its own transaction, so a change is
// committed when the call returns. Callers serialise their calls (ChatEngine holds its lock);
// the database lock is taken inside.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chats/chat_records.hpp"

namespace infsh::local {

class Database;

/// The error of whatever was running in a chat when its runtime went away.
inline constexpr const char* kChatRestartedError = "the runtime restarted during the turn";

/// An in_progress invocation that waits for a hook's callback rather than for work of the
/// runtime: it survives a restart.
bool waits_for_callback(const ToolInvocationRecord& invocation) noexcept;

class ChatStore {
 public:
  explicit ChatStore(Database& db);

  // ---- agents
  std::vector<AgentRecord> load_agents() const;
  void save_agent(const AgentRecord& agent);
  void delete_agent(const std::string& id);

  // ---- chats
  void save_chat(const ChatRecord& chat);
  /// The chat with this id or short id.
  std::optional<ChatRecord> find_chat(const std::string& id_or_short_id) const;
  /// Removes the chat with its messages and their invocations.
  void delete_chat(const std::string& id);
  /// Ids of chats whose status is not idle (a turn was under way when the runtime stopped).
  std::vector<std::string> unfinished_chats() const;
  /// Ids of chats that hold queued messages.
  std::vector<std::string> chats_with_queued_messages() const;

  /// What a runtime does on opening the store after another one stopped (or died) with turns
  /// under way: what was running ends `failed` with kChatRestartedError (the step's message,
  /// tool runs, sub-agent runs), what waits for someone outside (a client's result, an
  /// approval, a hook's callback) still waits. A chat left waiting keeps its turn and shows
  /// awaiting_input; any other unfinished chat becomes idle. Returns the chats it changed.
  std::vector<std::string> recover_interrupted_turns(const std::string& now);

  /// One page of chats, newest first.
  struct ChatPage {
    std::vector<ChatRecord> items;
    std::optional<std::int64_t> next_cursor;  ///< pass back to get the next page
    std::int64_t total = 0;
  };
  struct ChatQuery {
    std::optional<std::int64_t> before;  ///< a cursor from the previous page
    std::size_t limit = 25;
    std::string name_contains;           ///< "" for any
    std::optional<std::string> status;
    std::optional<std::string> parent_id;  ///< "" for top-level chats only
  };
  ChatPage list_chats(const ChatQuery& query) const;

  // ---- messages and invocations
  /// Writes the message's own fields (not its invocations).
  void save_message(const MessageRecord& message);
  void save_invocation(const ToolInvocationRecord& invocation);
  /// Every message of a chat in order, each with its invocations.
  std::vector<MessageRecord> load_messages(const std::string& chat_id) const;
  /// The chat holding the message with this id or short id, and the message's full id.
  std::optional<std::pair<std::string, std::string>> locate_message(
      const std::string& id_or_short_id) const;
  /// The chat holding the invocation with this id or short id, and the invocation's full id.
  std::optional<std::pair<std::string, std::string>> locate_invocation(
      const std::string& id_or_short_id) const;

 private:
  Database& db_;
};

}  // namespace infsh::local
