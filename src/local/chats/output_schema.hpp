#pragma once

// Checking a finish tool's arguments against the agent's output_schema: the part of JSON Schema
// that LLM tool schemas use (type, properties, required, additionalProperties: false, items,
// enum, const, minimum/maximum, minLength/maxLength, minItems/maxItems, anyOf/oneOf). Keywords
// outside it are ignored, so a schema never refuses for a reason it cannot state.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// The ways `value` does not fit `schema`, each as "<path>: <problem>" ("$.city: is required");
/// empty when it fits.
std::vector<std::string> schema_violations(const nlohmann::json& value,
                                           const nlohmann::json& schema);

}  // namespace infsh::local
