// A core for agents written in C++: an app speaking the chat contract (infsh/llm.hpp), so an
// agent can think with it (`core_app`). No model inside: it echoes the user's text word by word
// as streamed output, calls a tool when asked to ("call get_weather {"city": "Oslo"}"), and
// reports a tool's result when one comes back.
//
//   echo_llm run --input '{"text": "hello there"}'
//     →  {"response": "You said: hello there", ..., "usage": {"stop_reason": "stop", ...}}
//   infsh-local --app examples/echo-llm=./echo_llm     (then run it as any app, or as a core)

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <infsh/infsh.hpp>

namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// "call NAME [JSON arguments]" when NAME is one of the offered tools.
std::optional<infsh::ToolCall> requested_call(const infsh::LLMInput& input,
                                              const infsh::ContextMessage& latest) {
  if (latest.role != infsh::ContextMessageRole::user || !input.tools) return std::nullopt;
  const std::string& text = latest.text;
  const auto at = text.find("call ");
  if (at == std::string::npos) return std::nullopt;
  for (const infsh::Tool& tool : *input.tools) {
    if (text.compare(at + 5, tool.name.size(), tool.name) != 0) continue;
    const auto brace = text.find('{', at);
    infsh::ToolCall call{"call_" + std::to_string(input.context.size() + 1), tool.name, "{}"};
    if (brace != std::string::npos)
      call.arguments = text.substr(brace, text.rfind('}') - brace + 1);
    return call;
  }
  return std::nullopt;
}

}  // namespace

class EchoLlm : public infsh::BaseApp {
 public:
  static constexpr const char* app_name = "examples/echo-llm";

  infsh::LLMOutput run(const infsh::LLMInput& input, infsh::Context& context) {
    const std::vector<infsh::ContextMessage> messages = infsh::conversation(input);
    infsh::LLMOutput output;
    if (messages.empty()) {
      output.response = "Nothing to answer.";
    } else if (const infsh::ContextMessage& latest = messages.back();
               latest.role == infsh::ContextMessageRole::tool) {
      output.response = "The tool said: " + latest.text;
    } else if (auto call = requested_call(input, latest)) {
      infsh::parse_arguments(*call);  // refuses arguments that are not a JSON object
      output.response = "Calling " + call->name + ".";
      output.tool_calls = std::vector<infsh::ToolCall>{*call};
    } else {
      // Word by word, as a model streams: each partial output is the text so far.
      output.response = "You said:";
      for (const std::string& word : words(latest.text)) {
        context.throw_if_cancelled();
        output.response += " " + word;
        context.partial(output);
      }
    }
    // Usage in words, the closest this example has to tokens.
    infsh::LLMUsage usage;
    for (const auto& message : messages) {
      usage.prompt_tokens += static_cast<std::int64_t>(words(message.text).size());
    }
    usage.completion_tokens = static_cast<std::int64_t>(words(output.response).size());
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    usage.stop_reason = output.tool_calls ? "tool_calls" : "stop";
    output.usage = usage;
    return output;
  }
};

INFSH_MAIN(EchoLlm)
