#pragma once

// ChatEngine's in-memory state of one chat, shared by chat_engine.cpp (records, events, the
// API) and agent_loop.cpp (turns and tools). Private to the engine.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chats/chat_engine.hpp"

namespace infsh::local {

struct ChatEngine::ChatState {
  ChatRecord chat;
  std::vector<MessageRecord> messages;  ///< ascending `order`
  std::vector<std::pair<std::uint64_t, std::shared_ptr<Observer>>> observers;
  std::uint64_t last_used = 0;

  // The step under way (not stored: a restart fails it).
  std::string core_task;       ///< the core's task while it runs
  std::int64_t delta_seq = 0;  ///< the last `seq` of its delta events
  bool finished = false;       ///< the finish tool was called in this turn
  bool held = false;           ///< the turn waits for a stream before its first step
  bool watched = false;        ///< a stream or a read of the chat saw the turn under way
  /// The first message of the last turn when it ended with nobody watching, and until when a
  /// stream opened on the idle chat still gets that turn (ChatEngineOptions::unseen_turn_replay).
  std::string unseen_turn;
  std::chrono::steady_clock::time_point unseen_until;

  /// The message with this id, or nullptr.
  MessageRecord* message(const std::string& id) {
    for (auto& message : messages) {
      if (message.id == id) return &message;
    }
    return nullptr;
  }
  /// The current step's assistant message while a turn is under way, or nullptr.
  MessageRecord* current() {
    return chat.turn ? message(chat.turn->assistant_message_id) : nullptr;
  }
  /// The invocation with this id (or short id) in any message, or nullptr.
  ToolInvocationRecord* invocation(const std::string& id, MessageRecord** holder = nullptr) {
    for (auto& message : messages) {
      for (auto& invocation : message.invocations) {
        if (invocation.id == id || short_id_of(invocation.id) == id) {
          if (holder != nullptr) *holder = &message;
          return &invocation;
        }
      }
    }
    return nullptr;
  }
};

/// A tool's work that ended off the loop thread (an app task, an HTTP request).
struct ChatEngine::ToolDone {
  std::string chat_id;
  std::string invocation_id;
  InvocationStatus status = InvocationStatus::completed;
  std::string result;
  nlohmann::json data;
  /// An http tool's hook answered: the invocation now waits for its callback instead.
  bool awaiting_callback = false;
};

}  // namespace infsh::local
