#pragma once

// How ToolCall and Tool (infsh/llm.hpp) map to JSON: flat C++ structs, OpenAI's nested wire
// shapes, read leniently (arguments given as an object, a bare function object).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/detail/model_codecs.hpp"
#include "infsh/detail/model_support.hpp"
#include "infsh/location.hpp"

namespace infsh {

struct ToolCall;
struct Tool;

namespace detail {

template <>
struct Codec<ToolCall> {
  static constexpr Kind kind = Kind::model;
  static constexpr bool nullable = false;
  static constexpr bool reference = true;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints*);
  static nlohmann::ordered_json encode(const ToolCall& value);
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, ToolCall& out, const Location& where, Issues& issues,
                     const Constraints*);
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

template <>
struct Codec<Tool> {
  static constexpr Kind kind = Kind::model;
  static constexpr bool nullable = false;
  static constexpr bool reference = true;
  static nlohmann::ordered_json schema(SchemaBuilder& builder, const Constraints*);
  static nlohmann::ordered_json encode(const Tool& value);
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, Tool& out, const Location& where, Issues& issues,
                     const Constraints*);
  template <class U, class F>
  static void visit_files(U&, const Location&, const F&) {}
  static void file_patterns(const std::string&, std::vector<std::string>&,
                            std::vector<const void*>&) {}
};

}  // namespace detail

// nlohmann::json conversions, as INFSH_MODEL defines them for models.
void to_json(nlohmann::json& document, const ToolCall& value);
void to_json(nlohmann::ordered_json& document, const ToolCall& value);
void from_json(const nlohmann::json& document, ToolCall& value);
void to_json(nlohmann::json& document, const Tool& value);
void to_json(nlohmann::ordered_json& document, const Tool& value);
void from_json(const nlohmann::json& document, Tool& value);

}  // namespace infsh
