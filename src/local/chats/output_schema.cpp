#include "chats/output_schema.hpp"

namespace infsh::local {

using nlohmann::json;

namespace {

bool has_type(const json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    return value.is_number_integer() ||
           (value.is_number_float() &&
            value.get<double>() ==
                static_cast<double>(static_cast<long long>(value.get<double>())));
  }
  return true;  // an unknown type name refuses nothing
}

void check(const json& value, const json& schema, const std::string& path,
           std::vector<std::string>& problems, int depth) {
  if (!schema.is_object() || depth > 64) return;
  if (const auto type = schema.find("type"); type != schema.end()) {
    bool fits = false;
    std::string names;
    if (type->is_string()) {
      fits = has_type(value, type->get<std::string>());
      names = type->get<std::string>();
    } else if (type->is_array()) {
      for (const json& name : *type) {
        if (!name.is_string()) continue;
        fits = fits || has_type(value, name.get<std::string>());
        names += (names.empty() ? "" : " or ") + name.get<std::string>();
      }
    } else {
      fits = true;
    }
    if (!fits) {
      problems.push_back(path + ": must be " + names + ", not " + value.type_name());
      return;
    }
  }
  if (const auto values = schema.find("enum"); values != schema.end() && values->is_array()) {
    if (std::find(values->begin(), values->end(), value) == values->end()) {
      problems.push_back(path + ": must be one of " + values->dump());
    }
  }
  if (const auto constant = schema.find("const"); constant != schema.end() && *constant != value) {
    problems.push_back(path + ": must be " + constant->dump());
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    const auto options = schema.find(key);
    if (options == schema.end() || !options->is_array() || options->empty()) continue;
    bool any = false;
    for (const json& option : *options) {
      std::vector<std::string> ignored;
      check(value, option, path, ignored, depth + 1);
      any = any || ignored.empty();
    }
    if (!any) problems.push_back(path + ": fits none of the schemas of " + key);
  }
  if (value.is_number()) {
    const double number = value.get<double>();
    if (const auto min = schema.find("minimum");
        min != schema.end() && min->is_number() && number < min->get<double>()) {
      problems.push_back(path + ": must be at least " + min->dump());
    }
    if (const auto max = schema.find("maximum");
        max != schema.end() && max->is_number() && number > max->get<double>()) {
      problems.push_back(path + ": must be at most " + max->dump());
    }
  }
  if (value.is_string()) {
    const auto length = value.get_ref<const std::string&>().size();
    if (const auto min = schema.find("minLength");
        min != schema.end() && min->is_number_unsigned() && length < min->get<std::size_t>()) {
      problems.push_back(path + ": must have at least " + min->dump() + " characters");
    }
    if (const auto max = schema.find("maxLength");
        max != schema.end() && max->is_number_unsigned() && length > max->get<std::size_t>()) {
      problems.push_back(path + ": must have at most " + max->dump() + " characters");
    }
  }
  if (value.is_array()) {
    if (const auto min = schema.find("minItems"); min != schema.end() &&
                                                  min->is_number_unsigned() &&
                                                  value.size() < min->get<std::size_t>()) {
      problems.push_back(path + ": must have at least " + min->dump() + " items");
    }
    if (const auto max = schema.find("maxItems"); max != schema.end() &&
                                                  max->is_number_unsigned() &&
                                                  value.size() > max->get<std::size_t>()) {
      problems.push_back(path + ": must have at most " + max->dump() + " items");
    }
    if (const auto items = schema.find("items"); items != schema.end() && items->is_object()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        check(value[i], *items, path + "[" + std::to_string(i) + "]", problems, depth + 1);
      }
    }
  }
  if (value.is_object()) {
    const auto properties = schema.find("properties");
    if (const auto required = schema.find("required");
        required != schema.end() && required->is_array()) {
      for (const json& name : *required) {
        if (name.is_string() && !value.contains(name.get<std::string>())) {
          problems.push_back(path + "." + name.get<std::string>() + ": is required");
        }
      }
    }
    const auto additional = schema.find("additionalProperties");
    const std::string prefix = path + ".";
    for (const auto& [key, item] : value.items()) {
      const bool known =
          properties != schema.end() && properties->is_object() && properties->contains(key);
      if (known) {
        check(item, properties->at(key), prefix + key, problems, depth + 1);
      } else if (additional != schema.end() && additional->is_boolean() &&
                 !additional->get<bool>()) {
        problems.push_back(prefix + key + ": is not a property the schema allows");
      } else if (additional != schema.end() && additional->is_object()) {
        check(item, *additional, prefix + key, problems, depth + 1);
      }
    }
  }
}

}  // namespace

std::vector<std::string> schema_violations(const json& value, const json& schema) {
  std::vector<std::string> problems;
  check(value, schema, "$", problems, 0);
  return problems;
}

}  // namespace infsh::local
