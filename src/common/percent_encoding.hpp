#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace inferencesh::common {

/// Undoes percent-encoding ("%41" → "A"). Returns nullopt at a malformed escape when `strict`;
/// otherwise a malformed escape is kept as it is.
std::optional<std::string> percent_decode(std::string_view text, bool strict = true);

}  // namespace inferencesh::common
