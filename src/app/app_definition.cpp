#include "infsh/app_definition.hpp"

namespace infsh {

const FunctionDefinition* AppDefinition::find(std::string_view function) const {
  for (const auto& candidate : functions) {
    if (candidate.name == function) return &candidate;
  }
  return nullptr;
}

nlohmann::ordered_json AppDefinition::functions_schema() const {
  nlohmann::ordered_json schema = nlohmann::ordered_json::object();
  for (const auto& function : functions) {
    schema[function.name] = {{"description", function.description},
                             {"input_schema", function.input_schema},
                             {"output_schema", function.output_schema}};
  }
  return schema;
}

}  // namespace infsh
