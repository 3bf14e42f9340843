#include "apps/builtin/scripted_llm_script.hpp"

#include <cstddef>
#include <string_view>
#include <utility>

#include "infsh/local/app.hpp"

namespace infsh::local::apps {

INFSH_MODEL(ScriptCondition, title("a condition (when)"), forbid_extra(),
            INFSH_FIELD(turn).minimum(0), INFSH_FIELD(user_text), INFSH_FIELD(user_text_contains),
            INFSH_FIELD(tool_result_contains), INFSH_FIELD(tool_result_of))

INFSH_MODEL(ScriptToolCall, title("a tool call"), forbid_extra(), INFSH_FIELD(id),
            INFSH_FIELD(name).min_length(1), INFSH_FIELD(arguments).with_default())

INFSH_MODEL(ScriptStep, title("a step"), forbid_extra(), INFSH_FIELD(when),
            INFSH_FIELD(text).with_default(), INFSH_FIELD(chunks), INFSH_FIELD(reasoning),
            INFSH_FIELD(tool_calls).with_default(), INFSH_FIELD(finish), INFSH_FIELD(error),
            INFSH_FIELD(usage), INFSH_FIELD(delay_ms).minimum(0).maximum(3600000))

INFSH_MODEL(Script, title("the script"), forbid_extra(), INFSH_FIELD(steps).with_default(),
            INFSH_FIELD(chunk_size).minimum(1).maximum(1000000).with_default(),
            INFSH_FIELD(delay_ms).minimum(0).maximum(3600000).with_default(),
            field(&Script::fallback, "default"))

namespace {

using nlohmann::json;

constexpr const char* kExample = R"({"steps": [{"text": "Hello!"}]})";

[[noreturn]] void refuse(const std::string& field, const std::string& message) {
  throw InvalidInputError(field, field + ": " + message);
}

// Checks what the model cannot say: arguments, finish and usage values.
void check_step(const ScriptStep& step, const std::string& where) {
  for (std::size_t i = 0; i < step.tool_calls.size(); ++i) {
    const json& arguments = step.tool_calls[i].arguments;
    if (!arguments.is_object() && !arguments.is_string()) {
      refuse(where + ".tool_calls[" + std::to_string(i) + "].arguments",
             std::string("must be an object, or JSON text sent as it is, not ") +
                 arguments.type_name());
    }
  }
  if (step.finish && !step.finish->is_object()) {
    refuse(where + ".finish", std::string("must be an object (the finish tool's arguments), not ") +
                                  step.finish->type_name());
  }
  if (step.usage) {
    try {
      json usage = json(encode(LLMUsage{}));
      for (const auto& [key, value] : *step.usage) usage[key] = value;
      decode<LLMUsage>(usage, where + ".usage");
    } catch (const ValidationError& e) {
      throw InvalidInputError(e.issues().front().path, e.what());
    }
  }
}

std::int64_t words(std::string_view text) {
  std::int64_t count = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++count;
    in_word = !space;
  }
  return count;
}

// Replaces the placeholders in the string values of `value`, at any depth.
json render_strings(const json& value, const TurnFacts& facts) {
  if (value.is_string()) return render(value.get<std::string>(), facts);
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : value.items()) out[key] = render_strings(item, facts);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(render_strings(item, facts));
    return out;
  }
  return value;
}

std::string quoted(const std::string& text) {
  return "'" + (text.size() > 60 ? text.substr(0, 60) + "..." : text) + "'";
}

}  // namespace

Script parse_script(const json& setup) {
  if (setup.is_null()) {
    throw InvalidInputError("setup", std::string("infsh/scripted-llm needs its script as setup, "
                                                 "e.g. ") +
                                         kExample);
  }
  Script script;
  try {
    script = decode<Script>(setup, "setup");
  } catch (const ValidationError& e) {
    throw InvalidInputError(e.issues().front().path, e.what());
  }
  if (script.steps.empty() && !script.fallback) {
    refuse("setup.steps", std::string("give at least one step (or a default), e.g. ") + kExample);
  }
  for (std::size_t i = 0; i < script.steps.size(); ++i) {
    check_step(script.steps[i], "setup.steps[" + std::to_string(i) + "]");
  }
  if (script.fallback) check_step(*script.fallback, "setup.default");
  return script;
}

TurnFacts turn_facts(const LLMInput& input) {
  TurnFacts facts;
  for (const auto& message : input.context) {
    if (message.role == ContextMessageRole::assistant) ++facts.turn;
  }
  const auto messages = conversation(input);
  if (!messages.empty()) {
    facts.latest_is_user = messages.back().role == ContextMessageRole::user;
    facts.latest_is_tool = messages.back().role == ContextMessageRole::tool;
  }
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == ContextMessageRole::user) {
      facts.user_text = it->text;
      break;
    }
  }
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == ContextMessageRole::tool) {
      facts.tool_result = it->text;
      break;
    }
  }
  if (facts.latest_is_tool && messages.back().tool_call_id) {
    const std::string& id = *messages.back().tool_call_id;
    for (const auto& message : messages) {
      if (!message.tool_calls) continue;
      for (const auto& call : *message.tool_calls) {
        if (call.id == id) facts.tool_result_name = call.name;
      }
    }
  }
  if (input.tools) {
    for (const auto& tool : *input.tools) {
      facts.tool_names += (facts.tool_names.empty() ? "" : ", ") + tool.name;
    }
  }
  return facts;
}

const ScriptStep* select_step(const Script& script, const TurnFacts& facts) {
  for (std::size_t i = 0; i < script.steps.size(); ++i) {
    const ScriptStep& step = script.steps[i];
    if (!step.when) {
      if (facts.turn == static_cast<std::int64_t>(i)) return &step;
      continue;
    }
    const ScriptCondition& when = *step.when;
    if (when.turn && *when.turn != facts.turn) continue;
    if (when.user_text && !(facts.latest_is_user && facts.user_text == *when.user_text)) continue;
    if (when.user_text_contains &&
        !(facts.latest_is_user &&
          facts.user_text.find(*when.user_text_contains) != std::string::npos)) {
      continue;
    }
    if (when.tool_result_contains &&
        !(facts.latest_is_tool &&
          facts.tool_result.find(*when.tool_result_contains) != std::string::npos)) {
      continue;
    }
    if (when.tool_result_of &&
        !(facts.latest_is_tool && facts.tool_result_name == *when.tool_result_of)) {
      continue;
    }
    return &step;
  }
  return script.fallback ? &*script.fallback : nullptr;
}

std::string no_step_message(const Script& script, const TurnFacts& facts) {
  std::string latest = facts.latest_is_user   ? "the user's " + quoted(facts.user_text)
                       : facts.latest_is_tool ? "a tool result " + quoted(facts.tool_result)
                                              : "no new message";
  return "infsh/scripted-llm: no step of the script applies to turn " + std::to_string(facts.turn) +
         " (latest message: " + latest + "); the script has " +
         std::to_string(script.steps.size()) + " step" + (script.steps.size() == 1 ? "" : "s") +
         " and no default";
}

std::string render(const std::string& text, const TurnFacts& facts) {
  static const std::pair<std::string_view, int> kPlaceholders[] = {
      {"{{last_tool_result}}", 0}, {"{{user_text}}", 1}, {"{{turn}}", 2}, {"{{tool_names}}", 3}};
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    if (text.compare(i, 2, "{{") == 0) {
      for (const auto& [name, which] : kPlaceholders) {
        if (text.compare(i, name.size(), name) != 0) continue;
        switch (which) {
          case 0:
            out += facts.tool_result;
            break;
          case 1:
            out += facts.user_text;
            break;
          case 2:
            out += std::to_string(facts.turn);
            break;
          default:
            out += facts.tool_names;
            break;
        }
        i += name.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::vector<std::string> pieces(const ScriptStep& step, const Script& script,
                                const TurnFacts& facts) {
  std::vector<std::string> out;
  if (step.chunks) {
    for (const auto& chunk : *step.chunks) out.push_back(render(chunk, facts));
    return out;
  }
  const std::string text = render(step.text, facts);
  const auto size = static_cast<std::size_t>(script.chunk_size);
  std::string piece;
  std::size_t characters = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool starts_character = (static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U;
    if (starts_character && characters == size) {
      out.push_back(std::move(piece));
      piece.clear();
      characters = 0;
    }
    if (starts_character) ++characters;
    piece += text[i];
  }
  if (!piece.empty()) out.push_back(std::move(piece));
  return out;
}

LLMOutput step_output(const ScriptStep& step, const std::string& response, const LLMInput& input,
                      const TurnFacts& facts) {
  LLMOutput output;
  output.response = response;
  if (step.reasoning) output.reasoning = render(*step.reasoning, facts);
  std::vector<ToolCall> calls;
  const auto call_id = [&](std::size_t n) {
    return "call_" + std::to_string(facts.turn) + "_" + std::to_string(n);
  };
  for (const auto& scripted : step.tool_calls) {
    ToolCall call;
    call.id = scripted.id ? *scripted.id : call_id(calls.size() + 1);
    call.name = scripted.name;
    call.arguments = scripted.arguments.is_string()
                         ? scripted.arguments.get<std::string>()
                         : render_strings(scripted.arguments, facts).dump();
    calls.push_back(std::move(call));
  }
  if (step.finish) {
    calls.push_back(
        {call_id(calls.size() + 1), "finish", render_strings(*step.finish, facts).dump()});
  }
  if (!calls.empty()) output.tool_calls = std::move(calls);

  LLMUsage usage;
  usage.stop_reason = output.tool_calls ? "tool_calls" : "stop";
  usage.prompt_tokens = words(input.system_prompt);
  for (const auto& message : conversation(input)) usage.prompt_tokens += words(message.text);
  usage.completion_tokens = words(response);
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  if (step.usage) {
    json merged = json(encode(usage));
    for (const auto& [key, value] : *step.usage) merged[key] = value;
    usage = decode<LLMUsage>(merged, "usage");
  }
  output.usage = usage;
  return output;
}

}  // namespace infsh::local::apps
