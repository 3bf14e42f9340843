#include "stream_event.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/json_parse.hpp"

namespace inferencesh::detail {
namespace {

// How much of an offending payload an error message quotes.
constexpr std::size_t kQuotedBytes = 80;

// Length of the well-formed UTF-8 sequence starting at `text[0]`, or 0 when it is ill-formed
// (overlong forms, surrogates and code points above U+10FFFF are ill-formed, as in RFC 3629).
std::size_t utf8_sequence_length(std::string_view text) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const std::uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint8_t second_min = 0x80;
  std::uint8_t second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // no overlong forms
    if (lead == 0xED) second_max = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // no overlong forms
    if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

// Offset of the first byte that does not start a well-formed UTF-8 sequence, or npos.
std::size_t first_invalid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (length == 0) return i;
    i += length;
  }
  return std::string_view::npos;
}

// Appends `text` to `out` so that the result is printable, valid UTF-8: control characters and
// bytes that are not well-formed UTF-8 become \xNN escapes.
void append_escaped(std::string& out, std::string_view text) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<std::uint8_t>(text[i]);
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (length == 0 || byte < 0x20 || byte == 0x7F) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
}

// The first ~80 bytes of `payload`, quoted and escaped for an error message. The cut never
// splits a UTF-8 character.
std::string quote(std::string_view payload) {
  std::size_t cut = 0;
  while (cut < payload.size() && cut < kQuotedBytes) {
    const std::size_t length = utf8_sequence_length(payload.substr(cut));
    cut += length == 0 ? 1 : length;
  }
  std::string out = "\"";
  append_escaped(out, payload.substr(0, cut));
  out += cut < payload.size() ? "\"..." : "\"";
  return out;
}

std::string hex_byte(std::uint8_t byte) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  return {kHex[byte >> 4], kHex[byte & 0x0F]};
}

StreamEvent invalid(std::string reason) {
  StreamEvent event;
  event.kind = StreamEvent::Kind::invalid;
  event.error = std::move(reason);
  return event;
}

// Why parsing failed. Ill-formed UTF-8 is named as such (the parser reports it as a bad string);
// the parser's message is escaped, as it may quote the offending bytes.
StreamEvent parse_failure(std::string_view payload, const common::JsonParseError& error) {
  const std::size_t bad = first_invalid_utf8(payload);
  if (bad != std::string_view::npos) {
    return invalid("stream line is not valid UTF-8 (byte 0x" +
                   hex_byte(static_cast<std::uint8_t>(payload[bad])) + " at offset " +
                   std::to_string(bad) + "): " + quote(payload));
  }
  if (error.too_deep) return invalid("stream line is " + error.message + ": " + quote(payload));
  std::string description;
  append_escaped(description, error.message);
  return invalid("stream line is not valid JSON (" + description + "): " + quote(payload));
}

// `fields` of a partial update or typed event: the names of the changed fields; false when an
// entry is not a string.
bool field_names(const nlohmann::json& fields, std::vector<std::string>& names) {
  names.reserve(fields.size());
  for (const auto& name : fields) {
    if (!name.is_string()) return false;
    names.push_back(name.get<std::string>());
  }
  return true;
}

StreamEvent bad_field_list(std::string_view payload) {
  return invalid("stream line has a \"fields\" entry that is not a string: " + quote(payload));
}

StreamEvent classify_object(nlohmann::json object, std::string_view payload) {
  StreamEvent event;
  const auto type = object.find("type");
  if (type != object.end() && type->is_string() && *type == "heartbeat") {
    event.kind = StreamEvent::Kind::heartbeat;
    return event;
  }

  const auto data = object.find("data");
  const auto name = object.find("event");
  const auto fields = object.find("fields");
  const bool has_fields_array = fields != object.end() && fields->is_array();

  if (data != object.end() && name != object.end() && name->is_string()) {
    event.kind = StreamEvent::Kind::typed;
    event.event = name->get<std::string>();
    if (has_fields_array && !field_names(*fields, event.fields)) return bad_field_list(payload);
    event.data = std::move(*data);
    return event;
  }
  if (data != object.end() && has_fields_array) {
    event.kind = StreamEvent::Kind::partial;
    if (!field_names(*fields, event.fields)) return bad_field_list(payload);
    event.data = std::move(*data);
    return event;
  }
  // The newest JS SDK unwraps any `{data: {...}}`; an update without a field list.
  if (data != object.end() && data->is_object() && fields == object.end() && name == object.end()) {
    event.kind = StreamEvent::Kind::partial;
    event.data = std::move(*data);
    return event;
  }
  event.kind = StreamEvent::Kind::object;
  event.data = std::move(object);
  return event;
}

}  // namespace

StreamEvent classify_payload(std::string_view payload, std::string_view sse_event) {
  common::JsonParseError error;
  std::optional<nlohmann::json> parsed = common::parse_untrusted_json(payload, &error);
  if (!parsed) return parse_failure(payload, error);
  if (!parsed->is_object()) return invalid("stream line is not a JSON object: " + quote(payload));

  StreamEvent event = classify_object(std::move(*parsed), payload);
  // A named SSE event (other than the default "message") names a plain object or a partial
  // update; a payload that is already typed, or a heartbeat, keeps its own classification.
  const bool named = !sse_event.empty() && sse_event != "message";
  if (named &&
      (event.kind == StreamEvent::Kind::object || event.kind == StreamEvent::Kind::partial)) {
    event.kind = StreamEvent::Kind::typed;
    event.event = std::string(sse_event);
  }
  return event;
}

}  // namespace inferencesh::detail
