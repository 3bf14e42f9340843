#include "common/json_fields.hpp"

#include <utility>

namespace inferencesh::common {

const nlohmann::json* find_field(const nlohmann::json& object, const char* key) noexcept {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string string_field_or(const nlohmann::json& object, const char* key,
                            std::string_view fallback) {
  const nlohmann::json* value = find_field(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string(fallback);
}

std::int64_t integer_field_or(const nlohmann::json& object, const char* key,
                              std::int64_t fallback) {
  const nlohmann::json* value = find_field(object, key);
  return value != nullptr && value->is_number_integer() ? value->get<std::int64_t>() : fallback;
}

double number_field_or(const nlohmann::json& object, const char* key, double fallback) {
  const nlohmann::json* value = find_field(object, key);
  return value != nullptr && value->is_number() ? value->get<double>() : fallback;
}

nlohmann::json field_or_null(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nlohmann::json() : *it;
}

FieldTypeError::FieldTypeError(std::string field, std::string expected, std::string actual)
    : std::invalid_argument("field '" + field + "' must be " + expected + ", not " + actual),
      field_(std::move(field)),
      expected_(std::move(expected)),
      actual_(std::move(actual)) {}

const nlohmann::json* typed_field(const nlohmann::json& object, const char* key,
                                  JsonTypeTest is_expected, const char* expected) {
  const nlohmann::json* value = find_field(object, key);
  if (value != nullptr && !(value->*is_expected)()) {
    throw FieldTypeError(key, expected, value->type_name());
  }
  return value;
}

std::optional<std::string> optional_string_field(const nlohmann::json& object, const char* key) {
  const nlohmann::json* value = typed_field(object, key, &nlohmann::json::is_string, "a string");
  if (value == nullptr) return std::nullopt;
  return value->get<std::string>();
}

}  // namespace inferencesh::common
