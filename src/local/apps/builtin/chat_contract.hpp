#pragma once

// The chat contract (infsh/llm.hpp) as the built-in cores read it: the input of a turn, with
// errors naming the field, and where its Files are.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/llm.hpp"

namespace infsh::local::apps {

/// Decodes a turn's input. Throws InvalidInputError naming the first bad field
/// ("input.context[0].role") with every issue in its message.
LLMInput read_llm_input(const nlohmann::json& input);

/// Where Files can appear in a turn's input ("/images/*", "/context/*/files/*", ...).
std::vector<std::string> llm_input_files();

/// An output as the runtime takes it (plain JSON).
nlohmann::json to_task_output(const LLMOutput& output);

}  // namespace infsh::local::apps
