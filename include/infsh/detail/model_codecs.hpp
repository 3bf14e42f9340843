#pragma once

// How each supported C++ type maps to JSON and JSON Schema: one Codec per type, used by
// infsh::json_schema, encode, decode, for_each_file and file_locations.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/detail/model_support.hpp"
#include "infsh/errors.hpp"
#include "infsh/file.hpp"

namespace infsh::detail {

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
    // NOLINTNEXTLINE(modernize-return-braced-init-list): {value} would be an array
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
    const auto& info = declared_enum_info<E>();
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
  static nlohmann::ordered_json encode(E value) { return declared_enum_info<E>().to_string(value); }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, E& out, const Location& where, Issues& issues,
                     const Constraints*) {
    const auto& info = declared_enum_info<E>();
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
    const auto& info = declared_model_info<M>();
    return {{"$ref", builder.reference(info.name, &info,
                                       [&info, &builder] { return info.schema(builder); })}};
  }
  static nlohmann::ordered_json encode(const M& value) {
    return declared_model_info<M>().encode(value);
  }
  static bool is_null(const nlohmann::json& j) { return j.is_null(); }
  static void decode(const nlohmann::json& j, M& out, const Location& where, Issues& issues,
                     const Constraints*) {
    declared_model_info<M>().decode(j, out, where, issues);
  }
  static void visit_files(M& value, const Location& where, const FileVisitor& visit) {
    for (const auto& f : declared_model_info<M>().fields) f.visit_files(value, where, visit);
  }
  static void visit_files(const M& value, const Location& where, const ConstFileVisitor& visit) {
    for (const auto& f : declared_model_info<M>().fields) f.visit_const_files(value, where, visit);
  }
  static void file_patterns(const std::string& prefix, std::vector<std::string>& out,
                            std::vector<const void*>& stack) {
    const auto& info = declared_model_info<M>();
    for (const void* seen : stack) {
      if (seen == &info) return;  // a recursive model: its files were listed further up
    }
    stack.push_back(&info);
    for (const auto& f : info.fields) f.file_patterns(prefix, out, stack);
    stack.pop_back();
  }
};
}  // namespace infsh::detail
