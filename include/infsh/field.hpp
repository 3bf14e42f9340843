#pragma once

// The parts of a model declaration: fields with their rules (Field, Constraints) and the
// model-wide options, as used inside INFSH_MODEL (see infsh/model.hpp).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace infsh {

/// Any JSON object; its schema is {"additionalProperties": true, "type": "object"}.
using JsonObject = std::map<std::string, nlohmann::json>;

/// Names a type in overloads found by argument-dependent lookup.
template <class T>
struct type_tag {
  using type = T;
};

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
    for (const auto& [key, value] : keywords.items()) options_.schema_extra[key] = value;
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

}  // namespace infsh
