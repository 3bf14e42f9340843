#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace inferencesh::common {

/// Undoes percent-encoding ("%41" → "A"); '+' stays '+'. Returns nullopt at a malformed escape
/// ('%' not followed by two hex digits).
std::optional<std::string> percent_decode(std::string_view text);

/// Undoes percent-encoding like percent_decode(), but keeps a malformed escape as it is
/// ("100%" stays "100%", "%zz" stays "%zz"): for names and paths where a stray '%' is literal.
std::string percent_decode_lenient(std::string_view text);

}  // namespace inferencesh::common
