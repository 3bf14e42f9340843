#pragma once

// The script of infsh/scripted-llm (its setup), without I/O: the format, which step a turn
// takes, and what that step answers. The format is documented in src/local/README.md
// ("infsh/scripted-llm").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/llm.hpp"

namespace infsh::local::apps {

/// When a step applies; every condition given must hold.
struct ScriptCondition {
  std::optional<std::int64_t> turn;                 ///< assistant messages already in the context
  std::optional<std::string> user_text;             ///< the latest message is this user text
  std::optional<std::string> user_text_contains;    ///< ... a user text containing this
  std::optional<std::string> tool_result_contains;  ///< ... a tool result containing this
  std::optional<std::string> tool_result_of;        ///< ... the result of a call of this tool
};

/// A tool call a step makes. `arguments`: an object (string values get the placeholders), or
/// JSON text sent as it is, valid or not.
struct ScriptToolCall {
  std::optional<std::string> id;  ///< default "call_<turn>_<n>"
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
};

/// What one turn answers.
struct ScriptStep {
  std::optional<ScriptCondition> when;             ///< absent: applies at turn = its index in steps
  std::string text;                                ///< streamed in pieces of chunk_size characters
  std::optional<std::vector<std::string>> chunks;  ///< streamed as given instead of text
  std::optional<std::string> reasoning;
  std::vector<ScriptToolCall> tool_calls;
  std::optional<nlohmann::json> finish;  ///< the arguments of a closing `finish` call
  std::optional<std::string> error;      ///< fail the turn with this, after the text
  std::optional<JsonObject> usage;       ///< replaces fields of the computed usage
  std::optional<std::int64_t> delay_ms;  ///< this step's pause before each piece
};

/// The whole script: setup {"steps": [...], ...}.
struct Script {
  std::vector<ScriptStep> steps;
  std::int64_t chunk_size = 8;         ///< characters (code points) per streamed piece
  std::int64_t delay_ms = 0;           ///< pause before each piece (a cancel ends it early)
  std::optional<ScriptStep> fallback;  ///< "default": for a turn no step applies to
};

/// Reads a setup value as a script. Throws InvalidInputError naming the field
/// ("setup.steps[1].when.turn") when it is not one.
Script parse_script(const nlohmann::json& setup);

/// What a turn's selection and placeholders look at.
struct TurnFacts {
  std::int64_t turn = 0;         ///< assistant messages in the context
  bool latest_is_user = false;   ///< the newest message of the conversation is from the user
  bool latest_is_tool = false;   ///< ... is a tool result
  std::string user_text;         ///< the newest user message's text
  std::string tool_result;       ///< the newest tool result's text
  std::string tool_result_name;  ///< the tool whose call the newest message answers, if known
  std::string tool_names;        ///< the offered tools' names, joined with ", "
};

TurnFacts turn_facts(const LLMInput& input);

/// The step for a turn: the first step whose condition holds (a step without one: turn equals
/// its index), else the script's default; nullptr when none applies.
const ScriptStep* select_step(const Script& script, const TurnFacts& facts);

/// Why no step applied, for the task's error.
std::string no_step_message(const Script& script, const TurnFacts& facts);

/// `text` with {{last_tool_result}}, {{user_text}}, {{turn}} and {{tool_names}} replaced.
std::string render(const std::string& text, const TurnFacts& facts);

/// The pieces a step streams: its chunks, or its text cut every `chunk_size` code points;
/// placeholders replaced.
std::vector<std::string> pieces(const ScriptStep& step, const Script& script,
                                const TurnFacts& facts);

/// The output of a step once its text is out: the response, tool calls (finish last) and usage.
LLMOutput step_output(const ScriptStep& step, const std::string& response, const LLMInput& input,
                      const TurnFacts& facts);

}  // namespace infsh::local::apps
