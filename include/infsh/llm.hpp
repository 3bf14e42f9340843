#pragma once

// The chat contract: what an agent's core (the LLM it thinks with) takes and returns. An app
// whose run takes LLMInput and returns LLMOutput can be an agent's `core_app`; the local
// runtime's built-in cores speak it too. The field names are the platform's chat-app fields
// (sdk-py `models/llm.py`).
//
//   class Echo : public infsh::BaseApp {
//    public:
//     infsh::LLMOutput run(const infsh::LLMInput& in, infsh::Context& ctx) {
//       infsh::LLMOutput out;
//       out.response = "you said: " + in.text;
//       ctx.partial(out);                                   // streamed text: full snapshots
//       if (in.text == "weather?") {
//         out.tool_calls = std::vector<infsh::ToolCall>{
//             {"call_1", "get_weather", R"({"city": "Paris"})"}};
//       }
//       return out;
//     }
//   };
//
// A turn's input holds the system prompt, the conversation so far (`context`), the new message
// (`role`, `text`, `images`, `files`, `tool_call_id`) and the tools the model may call. The
// output holds the text, the tool calls the model makes, and usage; the agent runs the tools
// and calls the core again with their results as `tool` messages, until a turn has no tool
// calls (or calls `finish`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/file.hpp"
#include "infsh/model.hpp"
#include "infsh/output_meta.hpp"

namespace infsh {

/// Who wrote a message.
enum class ContextMessageRole { user, assistant, system, tool };

/// A call of a tool that the model made. On the wire it is OpenAI's
/// {"id", "type": "function", "function": {"name", "arguments"}}; `arguments` is JSON text (an
/// object given instead, as some servers send it, is read as its text).
struct ToolCall {
  std::string id;                ///< the model's id for the call ("call_1"); results quote it
  std::string name;              ///< the tool's name
  std::string arguments = "{}";  ///< the arguments, a JSON object as text

  friend bool operator==(const ToolCall& a, const ToolCall& b) {
    return a.id == b.id && a.name == b.name && a.arguments == b.arguments;
  }
  friend bool operator!=(const ToolCall& a, const ToolCall& b) { return !(a == b); }
};

/// A tool the model may call, in OpenAI's function format:
/// {"type": "function", "function": {"name", "description", "parameters"}}. A bare function
/// object ({"name", ...}) is read too.
struct Tool {
  std::string name;
  std::string description;
  /// The arguments' JSON Schema (an object schema).
  nlohmann::json parameters = {{"type", "object"}, {"properties", nlohmann::json::object()}};

  friend bool operator==(const Tool& a, const Tool& b) {
    return a.name == b.name && a.description == b.description && a.parameters == b.parameters;
  }
  friend bool operator!=(const Tool& a, const Tool& b) { return !(a == b); }
};

}  // namespace infsh

#include "infsh/detail/llm_codecs.hpp"

namespace infsh {

INFSH_ENUM(ContextMessageRole, {ContextMessageRole::user, "user"},
           {ContextMessageRole::assistant, "assistant"}, {ContextMessageRole::system, "system"},
           {ContextMessageRole::tool, "tool"})

/// One message of the conversation so far.
struct ContextMessage {
  ContextMessageRole role = ContextMessageRole::user;
  std::string text;                                 ///< may be empty (an assistant's tool calls)
  std::optional<std::string> reasoning;             ///< an assistant's reasoning, when it showed it
  std::optional<std::vector<File>> images;          ///< attachments that are images
  std::optional<std::vector<File>> files;           ///< other attachments
  std::optional<std::vector<ToolCall>> tool_calls;  ///< an assistant's calls
  std::optional<std::string> tool_call_id;          ///< a tool message: the call it answers
};

INFSH_MODEL(ContextMessage, description("A message of the conversation so far."),
            INFSH_FIELD(role).description("the role of the message: user, assistant, system or "
                                          "tool"),
            INFSH_FIELD(text).description("the text content of the message").with_default(),
            INFSH_FIELD(reasoning).description("the reasoning content of the message"),
            INFSH_FIELD(images).description("the images of the message"),
            INFSH_FIELD(files).description("the files of the message"),
            INFSH_FIELD(tool_calls).description("the tool calls of the message"),
            INFSH_FIELD(tool_call_id).description("the tool call id for tool role messages"))

/// The input of one turn of a core.
struct LLMInput {
  std::string system_prompt;                           ///< empty: no system message
  std::vector<ContextMessage> context;                 ///< the conversation so far, oldest first
  ContextMessageRole role = ContextMessageRole::user;  ///< who wrote the new message
  std::string text;                                    ///< the new message's text
  std::optional<std::vector<File>> images;             ///< the new message's images
  std::optional<std::vector<File>> files;              ///< the new message's other files
  std::optional<std::string> tool_call_id;  ///< role tool: the call the new message answers
  std::optional<std::vector<Tool>> tools;   ///< the tools the model may call
  std::optional<double> temperature;        ///< unset: the core's default
  std::optional<double> top_p;
  std::optional<std::int64_t> max_tokens;
  std::optional<std::int64_t> context_size;
};

INFSH_MODEL(
    LLMInput, description("One turn of a chat: the conversation so far and the new message."),
    INFSH_FIELD(system_prompt).description("the system prompt to use for the model").with_default(),
    INFSH_FIELD(context).description("the context to use for the model").with_default(),
    INFSH_FIELD(role).description("the role of the input text").with_default(),
    INFSH_FIELD(text).description("the input text to use for the model"),
    INFSH_FIELD(images).description("the images to use for the model"),
    INFSH_FIELD(files).description("the files to use for the model"),
    INFSH_FIELD(tool_call_id).description("the tool call id for tool role messages"),
    INFSH_FIELD(tools).description("tool definitions for function calling"),
    INFSH_FIELD(temperature).minimum(0).maximum(2), INFSH_FIELD(top_p).minimum(0).maximum(1),
    INFSH_FIELD(max_tokens).minimum(1), INFSH_FIELD(context_size).minimum(0))

/// What a turn cost and why it ended.
struct LLMUsage {
  /// Why the model stopped: "stop", "tool_calls", "length", ... (OpenAI's finish_reason).
  std::string stop_reason;
  double time_to_first_token = 0;  ///< seconds
  double tokens_per_second = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  double reasoning_time = 0;  ///< seconds
};

INFSH_MODEL(LLMUsage, description("Token usage of a turn and why it ended."),
            INFSH_FIELD(stop_reason).with_default(),
            INFSH_FIELD(time_to_first_token).with_default().schema_default(0.0),
            INFSH_FIELD(tokens_per_second).with_default().schema_default(0.0),
            INFSH_FIELD(prompt_tokens).with_default(),
            INFSH_FIELD(completion_tokens).with_default(), INFSH_FIELD(total_tokens).with_default(),
            INFSH_FIELD(reasoning_tokens).with_default(),
            INFSH_FIELD(reasoning_time).with_default().schema_default(0.0))

/// The output of one turn. Partial outputs (Context::partial) are full snapshots of it: the
/// text so far, and so on.
struct LLMOutput : BaseAppOutput {
  std::string response;                             ///< the text
  std::optional<std::string> reasoning;             ///< the model's reasoning, when it shows it
  std::optional<std::vector<ToolCall>> tool_calls;  ///< the tools to run before the next turn
  std::optional<LLMUsage> usage;
};

INFSH_MODEL(LLMOutput, description("The answer of a turn: text, tool calls and usage."),
            INFSH_FIELD(response).description("the generated text response").with_default(),
            INFSH_FIELD(reasoning).description("the reasoning output of the model"),
            INFSH_FIELD(tool_calls).description("tool calls for function calling"),
            INFSH_FIELD(usage).description("token usage statistics"))

/// The whole conversation in order: the context, then the new message (role, text, images,
/// files, tool_call_id), which is left out when it has no text, no attachments and is not a
/// tool result.
std::vector<ContextMessage> conversation(const LLMInput& input);

/// The arguments of `call` as JSON. Throws ValidationError naming the call when they are not
/// a JSON object.
nlohmann::json parse_arguments(const ToolCall& call);

}  // namespace infsh
