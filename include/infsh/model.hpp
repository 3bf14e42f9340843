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

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/errors.hpp"
#include "infsh/file.hpp"

namespace infsh {

/// Any JSON object; its schema is {"additionalProperties": true, "type": "object"}.
using JsonObject = std::map<std::string, nlohmann::json>;

/// Names a type in overloads found by argument-dependent lookup.
template <class T>
struct type_tag {
  using type = T;
};

/// Where a value sits in a document, both for messages ("input.size.width", "input.tags[2]")
/// and as a JSON pointer ("/size/width", "/tags/2").
class Location {
 public:
  Location() = default;
  /// A root named `name` ("input"); its pointer is "".
  explicit Location(std::string name) : path_(std::move(name)) {}

  /// The member `key` of this location.
  Location child(std::string_view key) const;
  /// The element `index` of this location.
  Location index(std::size_t index) const;

  /// "input.size.width"
  const std::string& path() const noexcept { return path_; }
  /// "/size/width"
  const std::string& pointer() const noexcept { return pointer_; }

 private:
  std::string path_;
  std::string pointer_;
};

/// Issues found while decoding, in document order.
using Issues = std::vector<ValidationIssue>;

/// Limits on a field's value, applied to the value itself or, for a std::optional, to the
/// value inside it. Numbers are kept as JSON so the schema shows 16 rather than 16.0.
struct Constraints {
  nlohmann::json minimum;                 ///< value >= minimum; null when unset
  nlohmann::json maximum;                 ///< value <= maximum
  nlohmann::json exclusive_minimum;       ///< value > exclusive_minimum
  nlohmann::json exclusive_maximum;       ///< value < exclusive_maximum
  std::optional<std::size_t> min_length;  ///< characters of a string, items of an array
  std::optional<std::size_t> max_length;
  std::optional<std::string> pattern;  ///< ECMAScript regular expression a string must match
  std::vector<std::string> choices;    ///< allowed strings (an inline "enum", like Literal[...])
};

namespace detail {

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
struct Codec;  // how a C++ type maps to JSON and JSON Schema; specialised below

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Field declarations

/// How a field's absence is treated.
enum class DefaultMode {
  required,  ///< absent → "field required" (std::optional fields are never required)
  shown,     ///< absent → the member's value in a default-constructed model, shown as "default"
  hidden,    ///< absent → that value, not shown in the schema (pydantic's default_factory)
};

/// Everything a field declaration says besides which member it is.
struct FieldOptions {
  std::string name;
  std::optional<std::string> title;
  std::optional<std::string> description;
  Constraints constraints;
  std::optional<nlohmann::json> examples;
  DefaultMode default_mode = DefaultMode::required;
  std::optional<nlohmann::json> schema_default;
  nlohmann::json schema_extra = nlohmann::json::object();
};

/// One member of a model with its JSON name and rules. Made by field() or INFSH_FIELD; each
/// setter returns the field, so rules chain.
template <class Owner, class T>
class Field {
 public:
  Field(T Owner::*member, std::string name) : member_(member) { options_.name = std::move(name); }

  /// The schema's "title" (default: the Title-Cased name).
  Field& title(std::string text) {
    options_.title = std::move(text);
    return *this;
  }
  /// The schema's "description".
  Field& description(std::string text) {
    options_.description = std::move(text);
    return *this;
  }
  /// value >= bound ("minimum").
  template <class N>
  Field& minimum(N bound) {
    options_.constraints.minimum = bound;
    return *this;
  }
  /// value <= bound ("maximum").
  template <class N>
  Field& maximum(N bound) {
    options_.constraints.maximum = bound;
    return *this;
  }
  /// value > bound ("exclusiveMinimum").
  template <class N>
  Field& exclusive_minimum(N bound) {
    options_.constraints.exclusive_minimum = bound;
    return *this;
  }
  /// value < bound ("exclusiveMaximum").
  template <class N>
  Field& exclusive_maximum(N bound) {
    options_.constraints.exclusive_maximum = bound;
    return *this;
  }
  /// At least n characters of a string ("minLength") or items of an array ("minItems").
  Field& min_length(std::size_t n) {
    options_.constraints.min_length = n;
    return *this;
  }
  /// At most n characters of a string ("maxLength") or items of an array ("maxItems").
  Field& max_length(std::size_t n) {
    options_.constraints.max_length = n;
    return *this;
  }
  /// Same as min_length(), named for arrays.
  Field& min_items(std::size_t n) { return min_length(n); }
  /// Same as max_length(), named for arrays.
  Field& max_items(std::size_t n) { return max_length(n); }
  /// A string must match this ECMAScript regular expression ("pattern").
  Field& pattern(std::string regex) {
    options_.constraints.pattern = std::move(regex);
    return *this;
  }
  /// A string must be one of these ("enum" inline, like Python's Literal["a", "b"]).
  Field& choices(std::vector<std::string> values) {
    options_.constraints.choices = std::move(values);
    return *this;
  }
  /// Example values shown in the schema ("examples"); `values` is an array.
  Field& examples(nlohmann::json values) {
    options_.examples = std::move(values);
    return *this;
  }
  /// Not required: the member's value in a default-constructed model is the default, and the
  /// schema shows it.
  Field& with_default() {
    options_.default_mode = DefaultMode::shown;
    return *this;
  }
  /// Not required, default as with_default(), but the schema shows no "default".
  Field& with_hidden_default() {
    options_.default_mode = DefaultMode::hidden;
    return *this;
  }
  /// The "default" the schema shows, when it should differ from the encoded default (for
  /// example 0 where the member holds 0.0).
  Field& schema_default(nlohmann::json value) {
    options_.schema_default = std::move(value);
    return *this;
  }
  /// Extra keywords merged into the field's schema, e.g. {{"x-promoted", true}}.
  Field& schema_extra(nlohmann::json keywords) {
    for (auto& [key, value] : keywords.items()) options_.schema_extra[key] = value;
    return *this;
  }

  T Owner::*member() const noexcept { return member_; }
  const FieldOptions& options() const noexcept { return options_; }

 private:
  T Owner::*member_;
  FieldOptions options_;
};

/// A model-wide option: the model's "description" (Python: the class docstring).
struct ModelDescription {
  std::string text;
};
/// A model-wide option: the model's "title" (default: the type's name).
struct ModelTitle {
  std::string text;
};
/// A model-wide option: keys that are not fields are an error ("is not a field of Input");
/// by default they are ignored, as pydantic does.
struct ForbidExtra {};

/// The functions usable inside INFSH_MODEL (and anywhere, qualified).
namespace model_dsl {

/// Declares member `member` under the JSON name `name`.
template <class Owner, class T>
Field<Owner, T> field(T Owner::*member, std::string name) {
  return Field<Owner, T>(member, std::move(name));
}
/// The model's description.
inline ModelDescription description(std::string text) { return {std::move(text)}; }
/// The model's title.
inline ModelTitle title(std::string text) { return {std::move(text)}; }
/// Unknown keys are an error.
inline ForbidExtra forbid_extra() { return {}; }

}  // namespace model_dsl

using model_dsl::field;

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

namespace detail {

template <class T, class = void>
struct is_model : std::false_type {};
template <class T>
struct is_model<T, std::void_t<decltype(infsh_model_info(type_tag<T>{}))>> : std::true_type {};

template <class T, class = void>
struct is_declared_enum : std::false_type {};
template <class T>
struct is_declared_enum<T, std::void_t<decltype(infsh_enum_info(type_tag<T>{}))>> : std::true_type {
};

template <class T>
struct is_std_optional : std::false_type {};
template <class T>
struct is_std_optional<std::optional<T>> : std::true_type {};

template <class T, class = void>
struct is_supported : std::false_type {};
template <class T>
struct is_supported<T, std::void_t<decltype(Codec<T>::kind)>> : std::true_type {};

}  // namespace detail

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

// ---------------------------------------------------------------------------------------------
// Codecs

namespace detail {

template <class T>
struct Codec<T, std::enable_if_t<std::is_same_v<T, bool>>> {
  static constexpr Kind kind = Kind::boolean;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder&, const Constraints*) {
    return {{"type", "boolean"}};
  }
  static nlohmann::ordered_json encode(bool value) { return value; }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, bool& out, const Location& where, Issues& issues,
                     const Constraints*) {
    if (!j.is_boolean()) {
      issues.push_back({where.path(), "expected boolean, got " + json_type_name(j)});
      return;
    }
    out = j.get<bool>();
  }
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                 !std::is_same_v<T, char>>> {
  static constexpr Kind kind = Kind::integer;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder&, const Constraints* constraints) {
    nlohmann::ordered_json s = {{"type", "integer"}};
    if (constraints != nullptr) apply_constraints(s, kind, *constraints);
    return s;
  }
  static nlohmann::ordered_json encode(T value) { return value; }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, T& out, const Location& where, Issues& issues,
                     const Constraints* constraints) {
    const auto too_small = [&] {
      issues.push_back(
          {where.path(), "must be >= " + std::to_string(std::numeric_limits<T>::min())});
    };
    const auto too_large = [&] {
      issues.push_back(
          {where.path(), "must be <= " + std::to_string(std::numeric_limits<T>::max())});
    };
    if (j.is_number_unsigned()) {
      const auto v = j.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return too_large();
      out = static_cast<T>(v);
    } else if (j.is_number_integer()) {
      const auto v = j.get<std::int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        if (v < 0) return too_small();
        if (static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) return too_large();
      } else {
        if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min())) return too_small();
        if (v > static_cast<std::int64_t>(std::numeric_limits<T>::max())) return too_large();
      }
      out = static_cast<T>(v);
    } else if (j.is_number_float()) {
      const double v = j.get<double>();
      if (!std::isfinite(v) || std::trunc(v) != v) {
        issues.push_back({where.path(), "expected integer, got a number with a fractional part"});
        return;
      }
      if (v < static_cast<double>(std::numeric_limits<T>::min())) return too_small();
      // max() + 1 is a power of two, exact as a double even where max() is not.
      if (v >= static_cast<double>(std::numeric_limits<T>::max()) + 1.0) return too_large();
      out = static_cast<T>(v);
    } else {
      issues.push_back({where.path(), "expected integer, got " + json_type_name(j)});
      return;
    }
    if (constraints != nullptr) check_number(static_cast<double>(out), *constraints, where, issues);
  }
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static constexpr Kind kind = Kind::number;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder&, const Constraints* constraints) {
    nlohmann::ordered_json s = {{"type", "number"}};
    if (constraints != nullptr) apply_constraints(s, kind, *constraints);
    return s;
  }
  static nlohmann::ordered_json encode(T value) { return value; }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, T& out, const Location& where, Issues& issues,
                     const Constraints* constraints) {
    if (!j.is_number()) {
      issues.push_back({where.path(), "expected number, got " + json_type_name(j)});
      return;
    }
    out = j.get<T>();
    if (constraints != nullptr) check_number(static_cast<double>(out), *constraints, where, issues);
  }
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

template <>
struct Codec<std::string> {
  static constexpr Kind kind = Kind::string;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder&, const Constraints* constraints) {
    nlohmann::ordered_json s = {{"type", "string"}};
    if (constraints != nullptr) apply_constraints(s, kind, *constraints);
    return s;
  }
  static nlohmann::ordered_json encode(const std::string& value) { return value; }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, std::string& out, const Location& where,
                     Issues& issues, const Constraints* constraints) {
    if (!j.is_string()) {
      issues.push_back({where.path(), "expected string, got " + json_type_name(j)});
      return;
    }
    out = j.get<std::string>();
    if (constraints != nullptr) check_string(out, *constraints, where, issues);
  }
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

template <>
struct Codec<File> {
  static constexpr Kind kind = Kind::file;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder&, const Constraints*) {
    return {{"format", "file"}, {"type", "string"}};
  }
  static nlohmann::ordered_json encode(const File& value) { return value.to_json(); }
  /// null, "" and {} are "no file" (pydantic's File validator).
  static bool is_null(const nlohmann::json& j) {
    return j.is_null() || (j.is_string() && j.get_ref<const std::string&>().empty()) ||
           (j.is_object() && j.empty());
  }
  static void decode(const nlohmann::json& j, File& out, const Location& where, Issues& issues,
                     const Constraints*) {
    if (is_null(j)) {
      issues.push_back({where.path(), "a file is required, got an empty value"});
      return;
    }
    try {
      out = File::from_json(j);
    } catch (const FileError& e) {
      issues.push_back({where.path(), e.what()});
    }
  }
  template <class U, class F>
  static void visit_files(U& value, const Location& where, const F& visit) {
    visit(value, where);
  }
  static void file_patterns(const std::string& prefix, std::vector<std::string>& out,
                            std::vector<const void*>&) {
    out.push_back(prefix);
  }
};

template <>
struct Codec<nlohmann::json> {
  static constexpr Kind kind = Kind::any;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder&, const Constraints*) {
    return nlohmann::ordered_json::object();
  }
  static nlohmann::ordered_json encode(const nlohmann::json& value) {
    return nlohmann::ordered_json(value);
  }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, nlohmann::json& out, const Location&, Issues&,
                     const Constraints*) {
    out = j;
  }
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

template <class T>
struct Codec<std::optional<T>> {
  static_assert(is_supported<T>::value, "unsupported type inside std::optional");
  static constexpr Kind kind = Codec<T>::kind;
  static constexpr bool nullable = true;
  static constexpr bool reference = Codec<T>::reference;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints* constraints) {
    nlohmann::ordered_json any_of = nlohmann::ordered_json::array();
    any_of.push_back(Codec<T>::schema(builder, constraints));
    any_of.push_back({{"type", "null"}});
    return {{"anyOf", std::move(any_of)}};
  }
  static nlohmann::ordered_json encode(const std::optional<T>& value) {
    return value ? Codec<T>::encode(*value) : nlohmann::ordered_json(nullptr);
  }
  static bool is_null(const nlohmann::json& j) { return Codec<T>::is_null(j); }
  static void decode(const nlohmann::json& j, std::optional<T>& out, const Location& where,
                     Issues& issues, const Constraints* constraints) {
    if (Codec<T>::is_null(j)) {
      out.reset();
      return;
    }
    out.emplace();
    Codec<T>::decode(j, *out, where, issues, constraints);
  }
  template <class U, class F>
  static void visit_files(U& value, const Location& where, const F& visit) {
    if (value) Codec<T>::visit_files(*value, where, visit);
  }
  static void file_patterns(const std::string& prefix, std::vector<std::string>& out,
                            std::vector<const void*>& stack) {
    Codec<T>::file_patterns(prefix, out, stack);
  }
};

template <class T>
struct Codec<std::vector<T>> {
  static_assert(is_supported<T>::value, "unsupported type inside std::vector");
  static constexpr Kind kind = Kind::array;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints* constraints) {
    nlohmann::ordered_json s = {{"items", Codec<T>::schema(builder, nullptr)}, {"type", "array"}};
    if (constraints != nullptr) apply_constraints(s, kind, *constraints);
    return s;
  }
  static nlohmann::ordered_json encode(const std::vector<T>& value) {
    nlohmann::ordered_json result = nlohmann::ordered_json::array();
    for (const auto& item : value) result.push_back(Codec<T>::encode(item));
    return result;
  }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, std::vector<T>& out, const Location& where,
                     Issues& issues, const Constraints* constraints) {
    if (!j.is_array()) {
      issues.push_back({where.path(), "expected array, got " + json_type_name(j)});
      return;
    }
    out.clear();
    out.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
      T item{};
      Codec<T>::decode(j[i], item, where.index(i), issues, nullptr);
      out.push_back(std::move(item));
    }
    if (constraints != nullptr) check_size(out.size(), *constraints, where, issues);
  }
  template <class U, class F>
  static void visit_files(U& value, const Location& where, const F& visit) {
    if constexpr (!std::is_same_v<T, bool>) {  // std::vector<bool> holds no files
      for (std::size_t i = 0; i < value.size(); ++i) {
        Codec<T>::visit_files(value[i], where.index(i), visit);
      }
    }
  }
  static void file_patterns(const std::string& prefix, std::vector<std::string>& out,
                            std::vector<const void*>& stack) {
    Codec<T>::file_patterns(prefix + "/*", out, stack);
  }
};

template <class T>
struct Codec<std::map<std::string, T>> {
  static_assert(is_supported<T>::value, "unsupported type inside std::map");
  static constexpr Kind kind = Kind::object;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints*) {
    nlohmann::ordered_json s = nlohmann::ordered_json::object();
    if constexpr (std::is_same_v<T, nlohmann::json>) {
      s["additionalProperties"] = true;
    } else {
      s["additionalProperties"] = Codec<T>::schema(builder, nullptr);
    }
    s["type"] = "object";
    return s;
  }
  static nlohmann::ordered_json encode(const std::map<std::string, T>& value) {
    nlohmann::ordered_json result = nlohmann::ordered_json::object();
    for (const auto& [key, item] : value) result[key] = Codec<T>::encode(item);
    return result;
  }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, std::map<std::string, T>& out, const Location& where,
                     Issues& issues, const Constraints*) {
    if (!j.is_object()) {
      issues.push_back({where.path(), "expected object, got " + json_type_name(j)});
      return;
    }
    out.clear();
    for (const auto& item : j.items()) {
      Codec<T>::decode(item.value(), out[item.key()], where.child(item.key()), issues, nullptr);
    }
  }
  template <class U, class F>
  static void visit_files(U& value, const Location& where, const F& visit) {
    for (auto& [key, item] : value) Codec<T>::visit_files(item, where.child(key), visit);
  }
  static void file_patterns(const std::string& prefix, std::vector<std::string>& out,
                            std::vector<const void*>& stack) {
    Codec<T>::file_patterns(prefix + "/*", out, stack);
  }
};

/// std::variant: "anyOf" the alternatives; decoding takes the first that fits.
template <class... Ts>
struct VariantCodec {
  static_assert((is_supported<Ts>::value && ...), "unsupported type inside std::variant");
  static constexpr Kind kind = Kind::any;
  static constexpr bool nullable = false;
  static constexpr bool reference = false;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints*) {
    nlohmann::ordered_json any_of = nlohmann::ordered_json::array();
    (any_of.push_back(Codec<Ts>::schema(builder, nullptr)), ...);
    return {{"anyOf", std::move(any_of)}};
  }
  static nlohmann::ordered_json encode(const std::variant<Ts...>& value) {
    return std::visit([](const auto& v) { return Codec<std::decay_t<decltype(v)>>::encode(v); },
                      value);
  }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  /// The first alternative that decodes without issues wins (in declaration order).
  static void decode(const nlohmann::json& j, std::variant<Ts...>& out, const Location& where,
                     Issues& issues, const Constraints*) {
    Issues first_issues;
    bool done = false;
    (try_alternative<Ts>(j, out, where, first_issues, done), ...);
    if (!done) {
      std::string message = "matches none of the allowed types";
      if (!first_issues.empty()) message += " (first: " + first_issues.front().message + ")";
      issues.push_back({where.path(), message});
    }
  }
  template <class U, class F>
  static void visit_files(U& value, const Location& where, const F& visit) {
    std::visit([&](auto& v) { Codec<std::decay_t<decltype(v)>>::visit_files(v, where, visit); },
               value);
  }
  static void file_patterns(const std::string& prefix, std::vector<std::string>& out,
                            std::vector<const void*>& stack) {
    (Codec<Ts>::file_patterns(prefix, out, stack), ...);
  }

 protected:
  template <class A>
  static void try_alternative(const nlohmann::json& j, std::variant<Ts...>& out,
                              const Location& where, Issues& first_issues, bool& done) {
    if (done) return;
    Issues local;
    A value{};
    Codec<A>::decode(j, value, where, local, nullptr);
    if (local.empty()) {
      out = std::move(value);
      done = true;
    } else if (first_issues.empty()) {
      first_issues = std::move(local);
    }
  }
};

template <class... Ts>
struct Codec<std::variant<Ts...>> : VariantCodec<Ts...> {};

template <class E>
struct Codec<E, std::enable_if_t<is_declared_enum<E>::value>> {
  static constexpr Kind kind = Kind::enumeration;
  static constexpr bool nullable = false;
  static constexpr bool reference = true;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints*) {
    const auto& info = enum_info<E>();
    return {{"$ref", builder.reference(info.name, &info, [&info] {
               nlohmann::ordered_json def = nlohmann::ordered_json::object();
               if (!info.description.empty()) def["description"] = info.description;
               nlohmann::ordered_json values = nlohmann::ordered_json::array();
               for (const auto& entry : info.values) values.push_back(entry.second);
               def["enum"] = std::move(values);
               def["title"] = info.name;
               def["type"] = "string";
               return def;
             })}};
  }
  static nlohmann::ordered_json encode(E value) { return enum_info<E>().to_string(value); }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, E& out, const Location& where, Issues& issues,
                     const Constraints*) {
    const auto& info = enum_info<E>();
    if (j.is_string()) {
      if (auto value = info.from_string(j.get_ref<const std::string&>())) {
        out = *value;
        return;
      }
    }
    std::string allowed;
    for (const auto& entry : info.values) {
      allowed += (allowed.empty() ? "'" : ", '") + entry.second + "'";
    }
    issues.push_back({where.path(), "must be one of " + allowed});
  }
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

template <class M>
struct Codec<M, std::enable_if_t<is_model<M>::value>> {
  static constexpr Kind kind = Kind::model;
  static constexpr bool nullable = false;
  static constexpr bool reference = true;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints*) {
    const auto& info = model_info<M>();
    return {{"$ref", builder.reference(info.name, &info,
                                       [&info, &builder] { return info.schema(builder); })}};
  }
  static nlohmann::ordered_json encode(const M& value) { return model_info<M>().encode(value); }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, M& out, const Location& where, Issues& issues,
                     const Constraints*) {
    model_info<M>().decode(j, out, where, issues);
  }
  static void visit_files(M& value, const Location& where, const FileVisitor& visit) {
    for (const auto& f : model_info<M>().fields) f.visit_files(value, where, visit);
  }
  static void visit_files(const M& value, const Location& where, const ConstFileVisitor& visit) {
    for (const auto& f : model_info<M>().fields) f.visit_const_files(value, where, visit);
  }
  static void file_patterns(const std::string& prefix, std::vector<std::string>& out,
                            std::vector<const void*>& stack) {
    const auto& info = model_info<M>();
    for (const void* seen : stack) {
      if (seen == &info) return;  // a recursive model: its files were listed further up
    }
    stack.push_back(&info);
    for (const auto& f : info.fields) f.file_patterns(prefix, out, stack);
    stack.pop_back();
  }
};

/// Turns a field declaration into a type-erased FieldInfo of Model.
template <class Model, class Owner, class T>
FieldInfo<Model> make_field_info(const Field<Owner, T>& declared) {
  static_assert(std::is_base_of_v<Owner, Model>, "the field is not a member of this model");
  static_assert(is_supported<T>::value,
                "unsupported field type: use bool, integers, floating point, std::string, "
                "infsh::File, infsh::JsonObject, nlohmann::json, INFSH_ENUM enums, INFSH_MODEL "
                "models, or std::optional/std::vector/std::map/std::variant of those");
  using C = Codec<T>;
  const auto options = std::make_shared<const FieldOptions>(declared.options());
  const auto member = declared.member();
  require_applicable(options->name, C::kind, options->constraints);
  // Runtime value first: with a constant first operand the whole would be a constant expression,
  // and capturing it in the lambdas below would draw "capture not required" from Clang.
  const bool defaulted = options->default_mode != DefaultMode::required || C::nullable;

  FieldInfo<Model> info;
  info.name = options->name;
  info.required = !defaulted;
  info.schema = [options, member, defaulted](SchemaBuilder& builder) {
    nlohmann::ordered_json s = C::schema(builder, &options->constraints);
    if (!C::reference) s["title"] = options->title ? *options->title : title_case(options->name);
    if (options->description) s["description"] = *options->description;
    if (defaulted && options->default_mode != DefaultMode::hidden) {
      if (options->schema_default) {
        s["default"] = nlohmann::ordered_json(*options->schema_default);
      } else if constexpr (std::is_default_constructible_v<Model>) {
        const Model defaults{};
        s["default"] = C::encode(defaults.*member);
      } else {
        throw std::logic_error("field " + options->name +
                               " has a default but its model is not default-constructible");
      }
    }
    if (options->examples) s["examples"] = nlohmann::ordered_json(*options->examples);
    for (const auto& item : options->schema_extra.items()) {
      s[item.key()] = nlohmann::ordered_json(item.value());
    }
    return s;
  };
  info.encode = [member](const Model& value) { return C::encode(value.*member); };
  info.decode = [options, member, defaulted](const nlohmann::json& document, Model& out,
                                             const Location& where, Issues& issues) {
    const auto found = document.find(options->name);
    if (found == document.end()) {
      if (!defaulted) issues.push_back({where.child(options->name).path(), "field required"});
      return;
    }
    C::decode(*found, out.*member, where.child(options->name), issues, &options->constraints);
  };
  info.visit_files = [options, member](Model& value, const Location& where,
                                       const FileVisitor& visit) {
    C::visit_files(value.*member, where.child(options->name), visit);
  };
  info.visit_const_files = [options, member](const Model& value, const Location& where,
                                             const ConstFileVisitor& visit) {
    C::visit_files(value.*member, where.child(options->name), visit);
  };
  info.file_patterns = [options](const std::string& prefix, std::vector<std::string>& out,
                                 std::vector<const void*>& stack) {
    C::file_patterns(prefix + "/" + options->name, out, stack);
  };
  return info;
}

template <class Model>
void add_model_argument(ModelInfo<Model>& info, const ModelDescription& option) {
  info.description = option.text;
}
template <class Model>
void add_model_argument(ModelInfo<Model>& info, const ModelTitle& option) {
  info.name = option.text;
}
template <class Model>
void add_model_argument(ModelInfo<Model>& info, const ForbidExtra&) {
  info.forbid_extra = true;
}
template <class Model, class Owner, class T>
void add_model_argument(ModelInfo<Model>& info, const Field<Owner, T>& declared) {
  for (const auto& existing : info.fields) {
    if (existing.name == declared.options().name) {
      throw std::logic_error("model " + info.name + " declares field " + existing.name + " twice");
    }
  }
  info.fields.push_back(make_field_info<Model>(declared));
}

}  // namespace detail

/// Fields a base class adds to every model derived from it (BaseAppOutput adds output_meta).
/// This fallback adds none; overloads taking a pointer to the base are found by lookup.
template <class Model>
void infsh_inherited_fields(const void*, ModelInfo<Model>&) {}

namespace detail {

/// Builds the description of Model from the arguments of INFSH_MODEL.
template <class Model, class... Args>
ModelInfo<Model> make_model(std::string_view type_name, const Args&... args) {
  static_assert(std::is_class_v<Model>, "INFSH_MODEL needs a struct or class");
  ModelInfo<Model> info;
  info.name = unqualified_name(type_name);
  (add_model_argument(info, args), ...);
  infsh_inherited_fields(static_cast<const Model*>(nullptr), info);
  return info;
}

}  // namespace detail

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
