#pragma once

// Model machinery shared by the codecs: names, constraint checks, the $defs collector and the
// traits that tell which types are models, enums or supported at all.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "infsh/field.hpp"
#include "infsh/file.hpp"
#include "infsh/location.hpp"

namespace infsh::detail {

/// What kind of JSON value a C++ type maps to; decides which constraints apply.
enum class Kind { boolean, integer, number, string, file, array, object, enumeration, model, any };

/// "null", "boolean", "integer", "number", "string", "array" or "object".
std::string json_type_name(const nlohmann::json& value);
/// "max_results" → "Max Results" (Python's str.title() on the name, then '_' → ' ').
std::string title_case(std::string_view name);
/// "ns::Input" → "Input".
std::string unqualified_name(std::string_view name);
/// Sorts object keys alphabetically at every level, except the members of "properties" and
/// of "default" values (pydantic's order).
nlohmann::ordered_json sort_schema(const nlohmann::ordered_json& schema);

/// Constraint checks shared by the codecs; each adds an issue when the rule is broken.
void check_number(double value, const Constraints& constraints, const Location& where,
                  Issues& issues);
void check_string(const std::string& value, const Constraints& constraints, const Location& where,
                  Issues& issues);
void check_size(std::size_t size, const Constraints& constraints, const Location& where,
                Issues& issues);
/// Adds the schema keywords of `constraints` that apply to `kind`.
void apply_constraints(nlohmann::ordered_json& schema, Kind kind, const Constraints& constraints);
/// Throws std::logic_error when `constraints` hold a rule that does not apply to `kind`.
void require_applicable(const std::string& field, Kind kind, const Constraints& constraints);

/// Collects $defs while a schema is built.
class SchemaBuilder {
 public:
  /// Returns "#/$defs/<name>", adding the definition made by `build` the first time. `owner`
  /// identifies the type; another type with the same name is a std::logic_error.
  std::string reference(const std::string& name, const void* owner,
                        const std::function<nlohmann::ordered_json()>& build);
  /// The definitions collected so far.
  const nlohmann::ordered_json& definitions() const noexcept { return definitions_; }

 private:
  nlohmann::ordered_json definitions_ = nlohmann::ordered_json::object();
  std::map<std::string, const void*> owners_;
};

/// Called for every File in a value, with its location.
using FileVisitor = std::function<void(File&, const Location&)>;
using ConstFileVisitor = std::function<void(const File&, const Location&)>;

template <class T, class = void>
struct Codec;  // how a C++ type maps to JSON and JSON Schema; see model_codecs.hpp

// Which types are models (INFSH_MODEL), enums (INFSH_ENUM), and supported at all.
template <class T, class = void>
struct is_model : std::false_type {};
template <class T>
struct is_model<T, std::void_t<decltype(infsh_model_info(type_tag<T>{}))>> : std::true_type {};

template <class T, class = void>
struct is_declared_enum : std::false_type {};
template <class T>
struct is_declared_enum<T, std::void_t<decltype(infsh_enum_info(type_tag<T>{}))>> : std::true_type {
};

/// The ModelInfo of model M and the EnumInfo of enum E: what INFSH_MODEL and INFSH_ENUM
/// define, found by argument-dependent lookup (infsh::model_info and enum_info check first).
template <class M>
const auto& declared_model_info() {
  return infsh_model_info(type_tag<M>{});
}
template <class E>
const auto& declared_enum_info() {
  return infsh_enum_info(type_tag<E>{});
}

template <class T>
struct is_std_optional : std::false_type {};
template <class T>
struct is_std_optional<std::optional<T>> : std::true_type {};

template <class T, class = void>
struct is_supported : std::false_type {};
template <class T>
struct is_supported<T, std::void_t<decltype(Codec<T>::kind)>> : std::true_type {};

}  // namespace infsh::detail
