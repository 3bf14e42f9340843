#pragma once

// Fields of JSON objects, read one way everywhere. Two flavours:
// - lenient: a missing, null or mistyped field gives a fallback (for DTOs and messages another
//   party wrote, where one odd field must not fail the whole read);
// - strict: a missing or null field is absent, any other type is refused with a FieldTypeError
//   naming the field (for requests, where a wrong type is the caller's mistake to report).
// A `key` names a member of `object`; an `object` that is not a JSON object has no fields.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace inferencesh::common {

/// The value of `key` when present and not null; nullptr otherwise.
const nlohmann::json* find_field(const nlohmann::json& object, const char* key) noexcept;

// ---- lenient ------------------------------------------------------------------------------------

/// The string at `key`; `fallback` when it is missing or not a string.
std::string string_field_or(const nlohmann::json& object, const char* key,
                            std::string_view fallback = {});

/// The integer at `key`; `fallback` when it is missing or not an integer.
std::int64_t integer_field_or(const nlohmann::json& object, const char* key,
                              std::int64_t fallback = 0);

/// The number at `key` (integer or not); `fallback` when it is missing or not a number.
double number_field_or(const nlohmann::json& object, const char* key, double fallback = 0.0);

/// The value at `key` as it is (null included); null when it is missing.
nlohmann::json field_or_null(const nlohmann::json& object, const char* key);

// ---- strict -------------------------------------------------------------------------------------

/// A field present with the wrong type. what(): "field 'app' must be a string, not number".
class FieldTypeError : public std::invalid_argument {
 public:
  FieldTypeError(std::string field, std::string expected, std::string actual);

  const std::string& field() const noexcept { return field_; }        ///< "app"
  const std::string& expected() const noexcept { return expected_; }  ///< "a string"
  const std::string& actual() const noexcept { return actual_; }      ///< "number"

 private:
  std::string field_;
  std::string expected_;
  std::string actual_;
};

/// One of nlohmann::json's type tests: &nlohmann::json::is_string, ::is_number_integer, ...
using JsonTypeTest = bool (nlohmann::json::*)() const noexcept;

/// The value of `key` when present and not null, nullptr when missing or null. Throws
/// FieldTypeError naming `key` and `expected` ("a string") when `is_expected` is false for it.
///
///     const auto* app = typed_field(body, "app", &nlohmann::json::is_string, "a string");
const nlohmann::json* typed_field(const nlohmann::json& object, const char* key,
                                  JsonTypeTest is_expected, const char* expected);

/// The string at `key`; nullopt when missing or null; FieldTypeError for any other type.
std::optional<std::string> optional_string_field(const nlohmann::json& object, const char* key);

}  // namespace inferencesh::common
