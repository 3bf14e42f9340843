#pragma once

// infsh/openai-chat without I/O, the request side: its setup, and a turn of the chat contract
// turned into an OpenAI-compatible /chat/completions request body.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "infsh/llm.hpp"

namespace infsh::local::apps {

/// The setup of infsh/openai-chat.
struct OpenAIChatSetup {
  std::string
      base_url;  ///< "http://127.0.0.1:8080/v1"; the request goes to <base_url>/chat/completions
  std::string model;  ///< the endpoint's model name
  /// The secret holding the API key, sent as `Authorization: Bearer`. Unset: OPENAI_API_KEY if
  /// that secret exists, else no key (local servers need none). Set: it must exist.
  std::optional<std::string> api_key_secret;
  std::optional<double> temperature;  ///< the turn's input wins over these
  std::optional<std::int64_t> max_tokens;
  std::optional<double> top_p;
  std::int64_t max_retries = 3;        ///< retries of 408/429/5xx answers and connection errors
  std::int64_t retry_delay_ms = 1000;  ///< first backoff (doubled each retry, up to 30 s)
  std::int64_t timeout_s = 600;        ///< a stream silent this long fails the turn
};

/// The secret used when api_key_secret is not set.
inline constexpr const char* kDefaultApiKeySecret = "OPENAI_API_KEY";

/// Reads and checks a setup value. Throws InvalidInputError naming the field
/// ("setup.base_url").
OpenAIChatSetup parse_openai_chat_setup(const nlohmann::json& setup);

/// "<base_url>/chat/completions" (a trailing '/' of base_url dropped).
std::string chat_completions_url(const OpenAIChatSetup& setup);

/// The request body: model, messages (the system prompt, then the conversation), tools,
/// sampling settings, `stream: true` with usage. Images with a local path are sent as base64
/// data URIs, others by their uri; text files are inlined, other files named. Throws
/// std::runtime_error naming the field when an attachment cannot be sent.
nlohmann::json chat_completions_body(const OpenAIChatSetup& setup, const LLMInput& input);

}  // namespace infsh::local::apps
