#include "common/json_parse.hpp"

#include <utility>
#include <vector>

namespace inferencesh::common {
namespace {

using Json = nlohmann::json;

// Builds the value from nlohmann's SAX events, as its own DOM parser does, and stops at the
// first container that would nest deeper than the limit: nothing deeper is ever built, and the
// check costs one comparison per array or object. Only the public API of nlohmann::json is
// used, so parent pointers stay right under JSON_DIAGNOSTICS too.
class BoundedDomBuilder {
 public:
  explicit BoundedDomBuilder(Json& root) : root_(root) { open_.reserve(16); }

  bool null() {
    place(nullptr);
    return true;
  }
  bool boolean(bool value) {
    place(value);
    return true;
  }
  bool number_integer(Json::number_integer_t value) {
    place(value);
    return true;
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    place(value);
    return true;
  }
  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) {
    place(value);
    return true;
  }
  bool string(Json::string_t& value) {
    place(std::move(value));
    return true;
  }
  bool binary(Json::binary_t& value) {
    place(std::move(value));
    return true;
  }
  bool start_object(std::size_t /*size*/) { return open(Json::value_t::object); }
  bool key(Json::string_t& name) {
    slot_ = &(*open_.back())[std::move(name)];
    return true;
  }
  bool end_object() {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*size*/) { return open(Json::value_t::array); }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const Json::exception& error) {
    error_ = error.what();
    return false;
  }

  bool too_deep() const noexcept { return too_deep_; }
  const std::string& error() const noexcept { return error_; }

 private:
  bool open(Json::value_t type) {
    if (open_.size() >= kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    open_.push_back(place(type));
    return true;
  }

  template <typename Value>
  Json* place(Value&& value) {
    if (open_.empty()) {
      root_ = Json(std::forward<Value>(value));
      return &root_;
    }
    Json& container = *open_.back();
    if (container.is_array()) return &container.emplace_back(std::forward<Value>(value));
    *slot_ = Json(std::forward<Value>(value));
    return slot_;
  }

  Json& root_;
  std::vector<Json*> open_;  // the containers being filled, outermost first
  Json* slot_ = nullptr;     // the member of the innermost object that the next value fills
  bool too_deep_ = false;
  std::string error_;
};

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string without_prefix(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    const std::size_t end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  return std::string(what);
}

}  // namespace

std::optional<nlohmann::json> parse_untrusted_json(std::string_view text, JsonParseError* error) {
  Json value;
  BoundedDomBuilder builder(value);
  const char* const begin = text.data();
  if (Json::sax_parse(begin, begin + text.size(), &builder)) return value;
  if (error != nullptr) {
    error->too_deep = builder.too_deep();
    error->message = builder.too_deep()
                         ? "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"
                         : without_prefix(builder.error());
  }
  return std::nullopt;
}

std::string compact_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace inferencesh::common
