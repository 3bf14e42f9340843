#include "apps/builtin/openai_chat_stream.hpp"

#include <algorithm>
#include <utility>

#include "common/json_parse.hpp"

namespace infsh::local::apps {

namespace {

using nlohmann::json;

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// The first bytes of a payload, for messages; never cut inside a UTF-8 sequence.
std::string excerpt(std::string_view data) {
  constexpr std::size_t kMax = 80;
  if (data.size() <= kMax) return std::string(data);
  std::size_t end = kMax;
  while (end > 0 && (static_cast<unsigned char>(data[end]) & 0xC0U) == 0x80U) --end;
  return std::string(data.substr(0, end)) + "...";
}

// A string member, or nothing when absent or null; another type is a broken chunk.
const std::string* optional_string(const json& object, const char* key, const char* what) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  if (!it->is_string()) {
    throw ChatStreamError(std::string("has a ") + what + " that is not a string");
  }
  return &it->get_ref<const std::string&>();
}

std::string error_text(const json& error) {
  if (error.is_string()) return error.get<std::string>();
  if (error.is_object()) {
    for (const char* key : {"message", "detail", "error"}) {
      const auto it = error.find(key);
      if (it != error.end() && it->is_string()) return it->get<std::string>();
    }
  }
  return error.dump();
}

std::int64_t count(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

bool ChatCompletionStream::feed(std::string_view data) {
  ++chunks_;
  const std::string_view payload = trimmed(data);
  if (payload == "[DONE]") {
    done_ = true;
    return false;
  }
  const std::size_t text_before = text_.size();
  const std::size_t reasoning_before = reasoning_.size();
  try {
    inferencesh::common::JsonParseError parse_error;
    const auto chunk = inferencesh::common::parse_untrusted_json(payload, &parse_error);
    if (!chunk) throw ChatStreamError("is not JSON (" + parse_error.message + ")");
    if (!chunk->is_object()) throw ChatStreamError("is not a JSON object");
    if (const auto error = chunk->find("error"); error != chunk->end() && !error->is_null()) {
      throw ChatStreamError("is an error from the server: " + error_text(*error));
    }
    if (const auto choices = chunk->find("choices");
        choices != chunk->end() && !choices->is_null()) {
      if (!choices->is_array()) throw ChatStreamError("has choices that are not an array");
      if (!choices->empty()) take_choice(choices->front(), false);
    }
    if (const auto usage = chunk->find("usage"); usage != chunk->end() && usage->is_object()) {
      take_usage(*usage);
    }
    if (const auto timings = chunk->find("timings");
        timings != chunk->end() && timings->is_object()) {
      const auto speed = timings->find("predicted_per_second");
      if (speed != timings->end() && speed->is_number()) tokens_per_second_ = speed->get<double>();
    }
  } catch (const ChatStreamError& e) {
    throw ChatStreamError("chunk " + std::to_string(chunks_) + " of the stream " + e.what() + ": " +
                          excerpt(payload));
  }
  return text_.size() != text_before || reasoning_.size() != reasoning_before;
}

void ChatCompletionStream::feed_completion(const json& completion) {
  try {
    if (!completion.is_object()) throw ChatStreamError("is not a JSON object");
    if (const auto error = completion.find("error");
        error != completion.end() && !error->is_null()) {
      throw ChatStreamError("is an error from the server: " + error_text(*error));
    }
    const auto choices = completion.find("choices");
    if (choices == completion.end() || !choices->is_array() || choices->empty()) {
      throw ChatStreamError("has no choices");
    }
    take_choice(choices->front(), true);
    if (const auto usage = completion.find("usage");
        usage != completion.end() && usage->is_object()) {
      take_usage(*usage);
    }
  } catch (const ChatStreamError& e) {
    throw ChatStreamError(std::string("the completion ") + e.what() + ": " +
                          excerpt(completion.dump()));
  }
  done_ = true;
}

void ChatCompletionStream::take_choice(const json& choice, bool whole_message) {
  if (!choice.is_object()) throw ChatStreamError("has a choice that is not an object");
  const char* key = whole_message ? "message" : "delta";
  if (const auto delta = choice.find(key); delta != choice.end() && !delta->is_null()) {
    if (!delta->is_object())
      throw ChatStreamError(std::string("has a ") + key + " that is not an object");
    if (const auto* text = optional_string(*delta, "content", "content")) text_ += *text;
    // The reasoning of models that show it: reasoning_content (llama.cpp, vLLM, DeepSeek) or
    // reasoning (Ollama, OpenRouter).
    if (const auto* r = optional_string(*delta, "reasoning_content", "reasoning_content")) {
      reasoning_ += *r;
    } else if (const auto* r2 = optional_string(*delta, "reasoning", "reasoning")) {
      reasoning_ += *r2;
    }
    if (const auto calls = delta->find("tool_calls"); calls != delta->end() && !calls->is_null()) {
      take_tool_calls(*calls, whole_message);
    }
  }
  if (const auto* reason = optional_string(choice, "finish_reason", "finish_reason")) {
    finish_reason_ = *reason;
  }
}

void ChatCompletionStream::take_tool_calls(const json& calls, bool whole_message) {
  if (!calls.is_array()) throw ChatStreamError("has tool_calls that are not an array");
  for (const json& delta : calls) {
    if (!delta.is_object()) throw ChatStreamError("has a tool call that is not an object");
    const std::string* id = optional_string(delta, "id", "tool call id");
    PendingCall* call = nullptr;
    if (const auto index = delta.find("index"); index != delta.end() && !index->is_null()) {
      if (!index->is_number_integer()) {
        throw ChatStreamError("has a tool call whose index is not an integer");
      }
      const auto value = index->get<std::int64_t>();
      for (auto& pending : calls_) {
        if (pending.index == value) call = &pending;
      }
      if (call == nullptr) call = &calls_.emplace_back(PendingCall{value, {}, {}, {}});
    } else {
      // No index (some servers send each call whole): the call with this id, else a new one.
      for (auto& pending : calls_) {
        if (id != nullptr && !id->empty() && pending.id == *id) call = &pending;
      }
      if (call == nullptr) {
        std::int64_t next = 0;
        for (const auto& pending : calls_) next = std::max(next, pending.index + 1);
        call = &calls_.emplace_back(PendingCall{next, {}, {}, {}});
      }
    }
    if (id != nullptr && !id->empty()) call->id = *id;
    const auto function = delta.find("function");
    if (function == delta.end() || function->is_null()) continue;
    if (!function->is_object())
      throw ChatStreamError("has a tool call function that is not an object");
    if (const auto* name = optional_string(*function, "name", "tool call name");
        name != nullptr && !name->empty()) {
      call->name = *name;
    }
    if (const auto arguments = function->find("arguments");
        arguments != function->end() && !arguments->is_null()) {
      if (arguments->is_string()) {
        if (whole_message) call->arguments.clear();
        call->arguments += arguments->get_ref<const std::string&>();
      } else if (arguments->is_object()) {
        call->arguments = arguments->dump();  // a server sending the object itself
      } else {
        throw ChatStreamError("has tool call arguments that are neither text nor an object");
      }
    }
  }
}

void ChatCompletionStream::take_usage(const json& usage) {
  LLMUsage taken;
  taken.prompt_tokens = count(usage, "prompt_tokens");
  taken.completion_tokens = count(usage, "completion_tokens");
  taken.total_tokens = count(usage, "total_tokens");
  if (taken.total_tokens == 0) taken.total_tokens = taken.prompt_tokens + taken.completion_tokens;
  if (const auto details = usage.find("completion_tokens_details");
      details != usage.end() && details->is_object()) {
    taken.reasoning_tokens = count(*details, "reasoning_tokens");
  }
  usage_ = taken;
}

LLMOutput ChatCompletionStream::partial() const {
  LLMOutput output;
  output.response = text_;
  if (!reasoning_.empty()) output.reasoning = reasoning_;
  return output;
}

LLMOutput ChatCompletionStream::result() const {
  LLMOutput output = partial();
  if (!calls_.empty()) {
    std::vector<PendingCall> sorted = calls_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const PendingCall& a, const PendingCall& b) { return a.index < b.index; });
    std::vector<ToolCall> calls;
    calls.reserve(sorted.size());
    for (const auto& pending : sorted) {
      calls.push_back(
          {pending.id.empty() ? "call_" + std::to_string(pending.index + 1) : pending.id,
           pending.name, pending.arguments.empty() ? "{}" : pending.arguments});
    }
    output.tool_calls = std::move(calls);
  }
  LLMUsage usage = usage_.value_or(LLMUsage{});
  usage.stop_reason = !finish_reason_.empty() ? finish_reason_
                      : output.tool_calls     ? "tool_calls"
                                              : "stop";
  output.usage = usage;
  return output;
}

}  // namespace infsh::local::apps
