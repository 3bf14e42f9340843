#include "apps/builtin/app_input.hpp"

namespace infsh::local::apps {

void require_object(const nlohmann::json& input, const char* shape) {
  if (input.is_object()) return;
  std::string message = "input must be an object";
  if (shape != nullptr) message += std::string(" like ") + shape;
  throw InvalidInputError("input", message + ", not " + input.type_name());
}

std::int64_t integer_field(const nlohmann::json& input, const char* key, std::int64_t fallback,
                           std::int64_t low, std::int64_t high) {
  require_object(input);
  const std::string name = std::string("input.") + key;
  const auto it = input.find(key);
  if (it == input.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    throw InvalidInputError(name, name + " must be an integer, not " + it->type_name());
  }
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
  require_object(input);
  const std::string name = std::string("input.") + key;
  const auto it = input.find(key);
  if (it == input.end() || it->is_null()) {
    throw InvalidInputError(name, name + " is required (a string)");
  }
  if (!it->is_string()) {
    throw InvalidInputError(name, name + " must be a string, not " + it->type_name());
  }
  const auto& text = it->get_ref<const std::string&>();
  if (!allow_empty && text.empty()) {
    throw InvalidInputError(name, name + " must not be empty");
  }
  return text;
}

}  // namespace infsh::local::apps
