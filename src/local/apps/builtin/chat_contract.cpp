#include "apps/builtin/chat_contract.hpp"

#include "infsh/local/app.hpp"

namespace infsh::local::apps {

LLMInput read_llm_input(const nlohmann::json& input) {
  try {
    return decode<LLMInput>(input, "input");
  } catch (const ValidationError& e) {
    throw InvalidInputError(e.issues().front().path, e.what());
  }
}

std::vector<std::string> llm_input_files() {
  static const std::vector<std::string> locations = file_locations<LLMInput>();
  return locations;
}

nlohmann::json to_task_output(const LLMOutput& output) { return encode(output); }

}  // namespace infsh::local::apps
