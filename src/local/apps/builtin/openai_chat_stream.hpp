#pragma once

// infsh/openai-chat without I/O, the answer side: the `data:` payloads of an OpenAI-compatible
// streamed chat completion put together into one turn's output. Text and reasoning deltas are
// appended; tool calls are assembled from their deltas (keyed by `index`, pieces of `arguments`
// concatenated); `finish_reason` and `usage` are kept. Fed one payload at a time, so it is
// tested without sockets.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/llm.hpp"

namespace infsh::local::apps {

/// A payload that is not a chat completion chunk, or an error the server sent in the stream.
class ChatStreamError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ChatCompletionStream {
 public:
  /// Takes one event's data. "[DONE]" ends the stream. Returns true when the text or the
  /// reasoning grew (worth a partial output). Throws ChatStreamError naming the chunk (its
  /// number and first bytes) when it is not JSON, not a chunk, or an error object.
  bool feed(std::string_view data);

  /// Takes a whole, unstreamed chat completion (a server that ignored `stream: true`).
  void feed_completion(const nlohmann::json& completion);

  bool done() const noexcept { return done_; }  ///< "[DONE]" arrived
  /// The answer is complete: "[DONE]" or a finish_reason arrived (some servers close the
  /// stream after the last chunk without "[DONE]").
  bool complete() const noexcept { return done_ || !finish_reason_.empty(); }
  bool has_content() const noexcept { return !text_.empty() || !reasoning_.empty(); }
  std::size_t chunks() const noexcept { return chunks_; }

  /// The text and reasoning so far (no tool calls, no usage): a partial output.
  LLMOutput partial() const;
  /// The whole answer: text, reasoning, tool calls in index order, usage (tokens as the server
  /// counted them; stop_reason from finish_reason). Timing fields are left for the caller.
  LLMOutput result() const;
  /// Tokens per second the server measured (llama.cpp's timings), if it said.
  std::optional<double> server_tokens_per_second() const { return tokens_per_second_; }

 private:
  struct PendingCall {
    std::int64_t index = 0;
    std::string id;
    std::string name;
    std::string arguments;
  };

  void take_choice(const nlohmann::json& choice, bool whole_message);
  void take_tool_calls(const nlohmann::json& calls, bool whole_message);
  void take_usage(const nlohmann::json& usage);

  std::string text_;
  std::string reasoning_;
  std::vector<PendingCall> calls_;
  std::string finish_reason_;
  std::optional<LLMUsage> usage_;
  std::optional<double> tokens_per_second_;
  std::size_t chunks_ = 0;
  bool done_ = false;
};

}  // namespace infsh::local::apps
