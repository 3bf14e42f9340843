#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace inferencesh::common {

/// Deepest nesting of arrays and objects accepted in JSON from another party. Copying, comparing
/// and printing a `nlohmann::json` recurse once per level, so a value nested without bound
/// exhausts the stack; 256 levels cost some tens of kilobytes of it and leave room for any
/// real payload. The same limit as the local runtime's on request bodies, so a task input it
/// accepts can come back to the client.
inline constexpr std::size_t kMaxJsonDepth = 256;

/// Why parse_untrusted_json() refused a text.
struct JsonParseError {
  bool too_deep = false;  ///< nested deeper than kMaxJsonDepth (the text may be valid JSON)
  std::string message;    ///< the parser's message without its "[json.exception...]" prefix,
                          ///< or "nested deeper than 256 levels"
};

/// Parses JSON that comes from another party (a server's response, a stream line, a request
/// body): every such text the client reads goes through here. Nesting deeper than
/// kMaxJsonDepth is refused while parsing, before any of it is built. Returns nullopt when the
/// text is not JSON or nests too deeply, saying why in `error` when given.
std::optional<nlohmann::json> parse_untrusted_json(std::string_view text,
                                                   JsonParseError* error = nullptr);

/// Compact JSON text with invalid UTF-8 in strings replaced by U+FFFD (dump() would throw):
/// how values are written to the wire, the store and logs.
std::string compact_json(const nlohmann::json& value);

}  // namespace inferencesh::common
