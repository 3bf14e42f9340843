#pragma once

// Typed models: a struct declared once gives JSON encoding, validated decoding and a JSON
// Schema shaped like the one the platform generates (pydantic's), with properties in
// declaration order.
//
//   enum class Palette { sunset, ocean };
//   INFSH_ENUM(Palette, {Palette::sunset, "sunset"}, {Palette::ocean, "ocean"})
//
//   struct Input {
//     std::string prompt;
//     int width = 512;
//     Palette palette = Palette::sunset;
//     std::optional<std::int64_t> seed;
//   };
//   INFSH_MODEL(Input,
//       description("What to draw."),
//       INFSH_FIELD(prompt).description("The prompt").min_length(1),
//       INFSH_FIELD(width).description("Width in pixels").minimum(16).maximum(2048).with_default(),
//       INFSH_FIELD(palette).with_default(),
//       INFSH_FIELD(seed).description("Random seed"))
//
//   nlohmann::ordered_json schema = infsh::json_schema<Input>();
//   Input in = infsh::decode<Input>(json, "input");   // throws infsh::ValidationError
//   nlohmann::ordered_json out = infsh::encode(in);
//
// Rules (pydantic's): a field is required unless it is a std::optional (default null) or is
// marked with_default() (the default is the member's value in a default-constructed model);
// titles are Title-Cased field names; enums and nested models go to $defs and are referenced
// with $ref; constraints of an optional field sit inside its anyOf branch.
//
// Supported member types: bool, integers, floating point, std::string, infsh::File,
// infsh::JsonObject (any object), nlohmann::json (any value), enums declared with INFSH_ENUM,
// models declared with INFSH_MODEL, and std::optional, std::vector, std::map<std::string, T>
// and std::variant of those. INFSH_MODEL and INFSH_ENUM go at namespace scope, in the
// namespace of the type, after its definition; members must be public.

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/detail/model_builder.hpp"
#include "infsh/detail/model_codecs.hpp"
#include "infsh/detail/model_support.hpp"
#include "infsh/errors.hpp"
#include "infsh/field.hpp"
#include "infsh/file.hpp"
#include "infsh/location.hpp"

namespace infsh {

// ---------------------------------------------------------------------------------------------
// Model and enum descriptions (built by INFSH_MODEL and INFSH_ENUM)

/// One field of a model, with its type erased.
template <class Model>
struct FieldInfo {
  std::string name;
  bool required = true;
  std::function<nlohmann::ordered_json(detail::SchemaBuilder&)> schema;
  std::function<nlohmann::ordered_json(const Model&)> encode;
  std::function<void(const nlohmann::json&, Model&, const Location&, Issues&)> decode;
  std::function<void(Model&, const Location&, const detail::FileVisitor&)> visit_files;
  std::function<void(const Model&, const Location&, const detail::ConstFileVisitor&)>
      visit_const_files;
  std::function<void(const std::string&, std::vector<std::string>&, std::vector<const void*>&)>
      file_patterns;
};

/// A model: its name, description and fields in declaration order.
template <class Model>
struct ModelInfo {
  std::string name;
  std::string description;
  bool forbid_extra = false;
  std::vector<FieldInfo<Model>> fields;

  /// The schema of the model itself: {description?, properties, required?, title, type}.
  nlohmann::ordered_json schema(detail::SchemaBuilder& builder) const {
    nlohmann::ordered_json result = nlohmann::ordered_json::object();
    if (!description.empty()) result["description"] = description;
    nlohmann::ordered_json properties = nlohmann::ordered_json::object();
    nlohmann::ordered_json required = nlohmann::ordered_json::array();
    for (const auto& f : fields) {
      properties[f.name] = f.schema(builder);
      if (f.required) required.push_back(f.name);
    }
    result["properties"] = std::move(properties);
    if (!required.empty()) result["required"] = std::move(required);
    result["title"] = name;
    result["type"] = "object";
    return result;
  }

  nlohmann::ordered_json encode(const Model& value) const {
    nlohmann::ordered_json result = nlohmann::ordered_json::object();
    for (const auto& f : fields) result[f.name] = f.encode(value);
    return result;
  }

  void decode(const nlohmann::json& document, Model& out, const Location& where,
              Issues& issues) const {
    if (!document.is_object()) {
      issues.push_back({where.path(), "expected object, got " + detail::json_type_name(document)});
      return;
    }
    for (const auto& f : fields) f.decode(document, out, where, issues);
    if (forbid_extra) {
      for (const auto& item : document.items()) {
        bool known = false;
        for (const auto& f : fields) known = known || f.name == item.key();
        if (!known) issues.push_back({where.child(item.key()).path(), "is not a field of " + name});
      }
    }
  }
};

/// An enum: its name, description and the JSON string of each value, in order.
template <class E>
struct EnumInfo {
  std::string name;
  std::string description;
  std::vector<std::pair<E, std::string>> values;

  EnumInfo(std::string_view type_name, std::vector<std::pair<E, std::string>> list,
           std::string text = {})
      : name(detail::unqualified_name(type_name)),
        description(std::move(text)),
        values(std::move(list)) {}

  /// The JSON string of `value`; std::logic_error when the value was not declared.
  const std::string& to_string(E value) const {
    for (const auto& [v, s] : values) {
      if (v == value) return s;
    }
    throw std::logic_error("enum " + name + ": value " +
                           std::to_string(static_cast<long long>(value)) +
                           " is not declared in INFSH_ENUM");
  }
  /// The value for a JSON string, if declared.
  std::optional<E> from_string(std::string_view text) const {
    for (const auto& [v, s] : values) {
      if (s == text) return v;
    }
    return std::nullopt;
  }
};
/// The description of model T (declared with INFSH_MODEL).
template <class T>
const ModelInfo<T>& model_info() {
  static_assert(detail::is_model<T>::value, "declare the type with INFSH_MODEL first");
  return infsh_model_info(type_tag<T>{});
}

/// The description of enum E (declared with INFSH_ENUM).
template <class E>
const EnumInfo<E>& enum_info() {
  static_assert(detail::is_declared_enum<E>::value, "declare the enum with INFSH_ENUM first");
  return infsh_enum_info(type_tag<E>{});
}
/// Fields a base class adds to every model derived from it (BaseAppOutput adds output_meta).
/// This fallback adds none; overloads taking a pointer to the base are found by lookup.
template <class Model>
void infsh_inherited_fields(const void*, ModelInfo<Model>&) {}
// ---------------------------------------------------------------------------------------------
// Using models

/// The JSON Schema of model T, as the platform writes it (pydantic's shape and key order).
template <class T>
nlohmann::ordered_json json_schema() {
  static_assert(detail::is_model<T>::value, "declare the type with INFSH_MODEL first");
  detail::SchemaBuilder builder;
  nlohmann::ordered_json root = model_info<T>().schema(builder);
  if (!builder.definitions().empty()) root["$defs"] = builder.definitions();
  return detail::sort_schema(root);
}

/// The JSON of a value, as the platform writes it (fields in declaration order).
template <class T>
nlohmann::ordered_json encode(const T& value) {
  static_assert(detail::is_supported<T>::value, "unsupported type");
  return detail::Codec<T>::encode(value);
}

/// Decodes and validates `document` as a T; `root` names the document in issue paths ("input",
/// "setup"). Throws ValidationError listing every issue. Files are read, not resolved.
template <class T>
T decode(const nlohmann::json& document, const std::string& root = "input") {
  static_assert(detail::is_supported<T>::value, "unsupported type");
  static_assert(std::is_default_constructible_v<T>, "decoded types must be default-constructible");
  T value{};
  Issues issues;
  detail::Codec<T>::decode(document, value, Location(root), issues, nullptr);
  if (!issues.empty()) throw ValidationError(std::move(issues));
  return value;
}

/// Calls `visit(file, location)` for every File held in `value` (members, items, optionals).
template <class T>
void for_each_file(T& value, const detail::FileVisitor& visit, const Location& root = Location()) {
  detail::Codec<T>::visit_files(value, root, visit);
}
template <class T>
void for_each_file(const T& value, const detail::ConstFileVisitor& visit,
                   const Location& root = Location()) {
  detail::Codec<T>::visit_files(value, root, visit);
}

/// Where Files can appear in a T, as JSON pointers with "*" for any array item or map key:
/// {"/image", "/images/*", "/nested/mask"}.
template <class T>
std::vector<std::string> file_locations() {
  std::vector<std::string> patterns;
  std::vector<const void*> stack;
  detail::Codec<T>::file_patterns("", patterns, stack);
  return patterns;
}

}  // namespace infsh

#if __cplusplus >= 202002L
#define INFSH_DETAIL_MORE_ARGUMENTS(...) __VA_OPT__(, ) __VA_ARGS__
#else
#define INFSH_DETAIL_MORE_ARGUMENTS(...) , __VA_ARGS__
#endif

/// Declares a model: the type, then (in any order) field declarations and model options.
/// Inside, `field(&Type::member, "name")`, INFSH_FIELD(member), description("..."),
/// title("...") and forbid_extra() are available. Use at namespace scope, in the type's
/// namespace. Also defines to_json/from_json for nlohmann::json. A model without fields is
/// INFSH_MODEL(Type) in C++20; C++17 needs one argument, e.g. description("...").
#define INFSH_MODEL(Type, ...)                                                                  \
  inline const ::infsh::ModelInfo<Type>& infsh_model_info(::infsh::type_tag<Type>) {            \
    using Self [[maybe_unused]] = Type;                                                         \
    using namespace ::infsh::model_dsl;                                                         \
    static const ::infsh::ModelInfo<Type> info =                                                \
        ::infsh::detail::make_model<Type>(#Type INFSH_DETAIL_MORE_ARGUMENTS(__VA_ARGS__));      \
    return info;                                                                                \
  }                                                                                             \
  [[maybe_unused]] inline void to_json(::nlohmann::json& document, const Type& value) {         \
    document = ::nlohmann::json(::infsh::encode(value));                                        \
  }                                                                                             \
  [[maybe_unused]] inline void to_json(::nlohmann::ordered_json& document, const Type& value) { \
    document = ::infsh::encode(value);                                                          \
  }                                                                                             \
  [[maybe_unused]] inline void from_json(const ::nlohmann::json& document, Type& value) {       \
    value = ::infsh::decode<Type>(document, "value");                                           \
  }

/// Inside INFSH_MODEL: declares the member `member` under its own name as the JSON name.
#define INFSH_FIELD(member) ::infsh::model_dsl::field(&Self::member, #member)

/// Declares an enum's JSON strings: INFSH_ENUM(Palette, {Palette::sunset, "sunset"}, ...).
/// The schema puts it in $defs as {"enum": [...], "title": "Palette", "type": "string"}.
#define INFSH_ENUM(Type, ...)                                                             \
  inline const ::infsh::EnumInfo<Type>& infsh_enum_info(::infsh::type_tag<Type>) {        \
    static const ::infsh::EnumInfo<Type> info(#Type, {__VA_ARGS__});                      \
    return info;                                                                          \
  }                                                                                       \
  [[maybe_unused]] inline void to_json(::nlohmann::json& document, const Type& value) {   \
    document = ::infsh::enum_info<Type>().to_string(value);                               \
  }                                                                                       \
  [[maybe_unused]] inline void from_json(const ::nlohmann::json& document, Type& value) { \
    value = ::infsh::decode<Type>(document, "value");                                     \
  }
