#include "apps/builtin/app_input.hpp"

#include "common/json_fields.hpp"

namespace infsh::local::apps {

namespace common = inferencesh::common;

void require_object(const nlohmann::json& input, const char* shape) {
  if (input.is_object()) return;
  std::string message = "input must be an object";
  if (shape != nullptr) message += std::string(" like ") + shape;
  throw InvalidInputError("input", message + ", not " + input.type_name());
}

namespace {

// input[key] when present and not null, by the common strict rule; a field of another type
// than `expected` is an InvalidInputError naming it ("input.steps must be an integer, not
// string").
const nlohmann::json* input_field(const nlohmann::json& input, const char* key,
                                  common::JsonTypeTest is_expected, const char* expected) {
  require_object(input);
  try {
    return common::typed_field(input, key, is_expected, expected);
  } catch (const common::FieldTypeError& e) {
    const std::string name = "input." + e.field();
    throw InvalidInputError(name, name + " must be " + e.expected() + ", not " + e.actual());
  }
}

}  // namespace

std::int64_t integer_field(const nlohmann::json& input, const char* key, std::int64_t fallback,
                           std::int64_t low, std::int64_t high) {
  const nlohmann::json* it =
      input_field(input, key, &nlohmann::json::is_number_integer, "an integer");
  if (it == nullptr) return fallback;
  const std::string name = std::string("input.") + key;
  const bool is_unsigned = it->is_number_unsigned();
  if (is_unsigned && it->get<std::uint64_t>() > static_cast<std::uint64_t>(high)) {
    throw InvalidInputError(name, name + " must be at most " + std::to_string(high));
  }
  const std::int64_t value =
      is_unsigned ? static_cast<std::int64_t>(it->get<std::uint64_t>()) : it->get<std::int64_t>();
  if (value < low || value > high) {
    throw InvalidInputError(name, name + " must be between " + std::to_string(low) + " and " +
                                      std::to_string(high) + ", not " + std::to_string(value));
  }
  return value;
}

const std::string& string_field(const nlohmann::json& input, const char* key, bool allow_empty) {
  const nlohmann::json* it = input_field(input, key, &nlohmann::json::is_string, "a string");
  const std::string name = std::string("input.") + key;
  if (it == nullptr) throw InvalidInputError(name, name + " is required (a string)");
  const auto& text = it->get_ref<const std::string&>();
  if (!allow_empty && text.empty()) {
    throw InvalidInputError(name, name + " must not be empty");
  }
  return text;
}

}  // namespace infsh::local::apps
