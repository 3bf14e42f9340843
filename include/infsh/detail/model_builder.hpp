#pragma once

// What INFSH_MODEL expands to: the field declarations and options of a model turned into its
// ModelInfo (infsh/model.hpp).

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "infsh/detail/model_codecs.hpp"
#include "infsh/detail/model_support.hpp"
#include "infsh/field.hpp"
#include "infsh/location.hpp"

namespace infsh {

template <class Model>
struct FieldInfo;
template <class Model>
struct ModelInfo;

namespace detail {

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
}  // namespace infsh
