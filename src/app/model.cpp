// The non-template parts of the model machinery: locations, names, constraint checks and
// pydantic's key order.

#include "infsh/model.hpp"

#include <algorithm>
#include <regex>

namespace infsh {

ValidationError::ValidationError(std::vector<ValidationIssue> issues)
    : Error([&issues] {
        std::string text;
        for (const auto& issue : issues) {
          if (!text.empty()) text += "; ";
          text += issue.path.empty() ? issue.message : issue.path + ": " + issue.message;
        }
        return text.empty() ? std::string("invalid value") : text;
      }()),
      issues_(std::move(issues)) {
  if (issues_.empty()) issues_.push_back({"", "invalid value"});
}

namespace {

// "~" and "/" are escaped in JSON pointers (RFC 6901).
std::string pointer_token(std::string_view key) {
  std::string token;
  token.reserve(key.size());
  for (const char c : key) {
    if (c == '~') {
      token += "~0";
    } else if (c == '/') {
      token += "~1";
    } else {
      token += c;
    }
  }
  return token;
}

std::size_t utf8_length(const std::string& text) {
  std::size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++count;  // not a continuation byte
  }
  return count;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool is_set(const nlohmann::json& bound) { return !bound.is_null(); }

}  // namespace

Location Location::child(std::string_view key) const {
  Location next;
  next.path_ = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  next.pointer_ = pointer_ + "/" + pointer_token(key);
  return next;
}

Location Location::index(std::size_t index) const {
  Location next;
  next.path_ = path_ + "[" + std::to_string(index) + "]";
  next.pointer_ = pointer_ + "/" + std::to_string(index);
  return next;
}

namespace detail {

std::string json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

std::string title_case(std::string_view name) {
  // Python's str.title(): a letter after a non-letter starts a word and is upper-cased, other
  // letters are lower-cased. Then underscores become spaces ("resolution_mp" → "Resolution Mp").
  std::string title;
  title.reserve(name.size());
  bool previous_is_letter = false;
  for (const char c : name) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (letter) {
      const bool upper = c >= 'A' && c <= 'Z';
      if (!previous_is_letter) {
        title += upper ? c : static_cast<char>(c - 'a' + 'A');
      } else {
        title += upper ? static_cast<char>(c - 'A' + 'a') : c;
      }
    } else {
      title += c == '_' ? ' ' : c;
    }
    previous_is_letter = letter;
  }
  return title;
}

std::string unqualified_name(std::string_view name) {
  const auto colon = name.rfind("::");
  if (colon != std::string_view::npos) name.remove_prefix(colon + 2);
  std::string result;
  for (const char c : name) {
    if (c != ' ' && c != '\t' && c != '\n') result += c;
  }
  return result;
}

namespace {

nlohmann::ordered_json sort_value(const nlohmann::ordered_json& value, std::string_view parent) {
  if (value.is_object()) {
    std::vector<std::string> keys;
    keys.reserve(value.size());
    for (const auto& item : value.items()) keys.push_back(item.key());
    if (parent != "properties" && parent != "default") std::sort(keys.begin(), keys.end());
    nlohmann::ordered_json sorted = nlohmann::ordered_json::object();
    for (const auto& key : keys) sorted[key] = sort_value(value.at(key), key);
    return sorted;
  }
  if (value.is_array()) {
    nlohmann::ordered_json sorted = nlohmann::ordered_json::array();
    for (const auto& item : value) sorted.push_back(sort_value(item, parent));
    return sorted;
  }
  return value;
}

}  // namespace

nlohmann::ordered_json sort_schema(const nlohmann::ordered_json& schema) {
  return sort_value(schema, "");
}

void check_number(double value, const Constraints& c, const Location& where, Issues& issues) {
  if (is_set(c.minimum) && value < c.minimum.get<double>()) {
    issues.push_back({where.path(), "must be >= " + c.minimum.dump()});
  }
  if (is_set(c.maximum) && value > c.maximum.get<double>()) {
    issues.push_back({where.path(), "must be <= " + c.maximum.dump()});
  }
  if (is_set(c.exclusive_minimum) && !(value > c.exclusive_minimum.get<double>())) {
    issues.push_back({where.path(), "must be > " + c.exclusive_minimum.dump()});
  }
  if (is_set(c.exclusive_maximum) && !(value < c.exclusive_maximum.get<double>())) {
    issues.push_back({where.path(), "must be < " + c.exclusive_maximum.dump()});
  }
}

void check_string(const std::string& value, const Constraints& c, const Location& where,
                  Issues& issues) {
  const std::size_t length = utf8_length(value);
  if (c.min_length && length < *c.min_length) {
    issues.push_back(
        {where.path(), "must have at least " + plural(*c.min_length, "character", "characters")});
  }
  if (c.max_length && length > *c.max_length) {
    issues.push_back(
        {where.path(), "must have at most " + plural(*c.max_length, "character", "characters")});
  }
  if (c.pattern && !std::regex_search(value, std::regex(*c.pattern, std::regex::ECMAScript))) {
    issues.push_back({where.path(), "must match pattern '" + *c.pattern + "'"});
  }
  if (!c.choices.empty() &&
      std::find(c.choices.begin(), c.choices.end(), value) == c.choices.end()) {
    std::string allowed;
    for (const auto& choice : c.choices) allowed += (allowed.empty() ? "'" : ", '") + choice + "'";
    issues.push_back({where.path(), "must be one of " + allowed});
  }
}

void check_size(std::size_t size, const Constraints& c, const Location& where, Issues& issues) {
  if (c.min_length && size < *c.min_length) {
    issues.push_back(
        {where.path(), "must have at least " + plural(*c.min_length, "item", "items")});
  }
  if (c.max_length && size > *c.max_length) {
    issues.push_back({where.path(), "must have at most " + plural(*c.max_length, "item", "items")});
  }
}

void apply_constraints(nlohmann::ordered_json& schema, Kind kind, const Constraints& c) {
  const auto bound = [&schema](const char* keyword, const nlohmann::json& value) {
    if (is_set(value)) schema[keyword] = nlohmann::ordered_json(value);
  };
  switch (kind) {
    case Kind::integer:
    case Kind::number:
      bound("minimum", c.minimum);
      bound("maximum", c.maximum);
      bound("exclusiveMinimum", c.exclusive_minimum);
      bound("exclusiveMaximum", c.exclusive_maximum);
      break;
    case Kind::string:
      if (c.min_length) schema["minLength"] = *c.min_length;
      if (c.max_length) schema["maxLength"] = *c.max_length;
      if (c.pattern) schema["pattern"] = *c.pattern;
      if (!c.choices.empty()) schema["enum"] = c.choices;
      break;
    case Kind::array:
      if (c.min_length) schema["minItems"] = *c.min_length;
      if (c.max_length) schema["maxItems"] = *c.max_length;
      break;
    default:
      break;
  }
}

void require_applicable(const std::string& field, Kind kind, const Constraints& c) {
  const bool number = kind == Kind::integer || kind == Kind::number;
  const bool sized = kind == Kind::string || kind == Kind::array;
  const auto refuse = [&field](const char* rule, const char* applies_to) {
    throw std::logic_error("field " + field + ": " + rule + " applies to " + applies_to + " only");
  };
  for (const auto* bound : {&c.minimum, &c.maximum, &c.exclusive_minimum, &c.exclusive_maximum}) {
    if (is_set(*bound) && !bound->is_number()) refuse("a bound that is not a number", "numbers");
    if (is_set(*bound) && !number) refuse("minimum/maximum", "numbers");
  }
  if ((c.min_length || c.max_length) && !sized)
    refuse("min_length/max_length", "strings and arrays");
  if (c.pattern && kind != Kind::string) refuse("pattern", "strings");
  if (!c.choices.empty() && kind != Kind::string) refuse("choices", "strings");
  if (c.pattern) {
    try {
      std::regex check(*c.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::logic_error("field " + field + ": invalid pattern '" + *c.pattern +
                             "': " + e.what());
    }
  }
}

std::string SchemaBuilder::reference(const std::string& name, const void* owner,
                                     const std::function<nlohmann::ordered_json()>& build) {
  const auto found = owners_.find(name);
  if (found != owners_.end()) {
    if (found->second != owner) {
      throw std::logic_error("two different types are both called " + name +
                             " in one schema; give one a title(...)");
    }
  } else {
    owners_.emplace(name, owner);  // before building, so a recursive model refers to itself
    nlohmann::ordered_json definition = build();
    definitions_[name] = std::move(definition);
  }
  return "#/$defs/" + name;
}

}  // namespace detail
}  // namespace infsh
