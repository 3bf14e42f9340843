#pragma once

// Parsing request bodies as JSON, for every endpoint group: syntax errors and absurd nesting
// become 400s with a clear message, never a crash (nlohmann's dump recurses per level, so an
// 8 MB body of '[' would overflow a thread's stack when echoed back).

#include <string_view>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// Parses a request body with common::parse_untrusted_json (nesting is refused while parsing,
/// past common::kMaxJsonDepth); an empty or blank body is `{}`. Throws ApiProblem 400 naming
/// the problem (bad syntax with its position, nesting deeper than 256 levels).
nlohmann::json parse_json_body(std::string_view body);

}  // namespace infsh::local
