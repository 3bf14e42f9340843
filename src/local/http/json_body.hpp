#pragma once

// Parsing request bodies as JSON, for every endpoint group: syntax errors and absurd nesting
// become 400s with a clear message, never a crash (nlohmann's dump recurses per level, so an
// 8 MB body of '[' would overflow a thread's stack when echoed back).

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace infsh::local {

inline constexpr std::size_t kMaxJsonDepth = 256;

/// The deepest array/object nesting in `text` (strings and escapes are skipped).
std::size_t json_nesting_depth(std::string_view text) noexcept;

/// Parses a request body; an empty or blank body is `{}`. Throws ApiProblem 400 naming the
/// problem (bad syntax with its position, nesting deeper than kMaxJsonDepth).
nlohmann::json parse_json_body(std::string_view body);

}  // namespace infsh::local
