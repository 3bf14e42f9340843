#pragma once

// Reading the input of a built-in app: each helper throws InvalidInputError naming the field
// ("input.steps") and saying what was expected, so a bad request gets a 422 that says what to
// fix before any task is created.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "infsh/local/app.hpp"

namespace infsh::local::apps {

/// Throws unless `input` is a JSON object; `shape` shows one ({"file": "<uri>"}).
void require_object(const nlohmann::json& input, const char* shape = nullptr);

/// The integer at input[key], or `fallback` when absent or null; throws when of another type or
/// outside [low, high].
std::int64_t integer_field(const nlohmann::json& input, const char* key, std::int64_t fallback,
                           std::int64_t low, std::int64_t high);

/// The string at input[key]; throws when absent, null, of another type, or empty while
/// `allow_empty` is false.
const std::string& string_field(const nlohmann::json& input, const char* key,
                                bool allow_empty = true);

}  // namespace infsh::local::apps
