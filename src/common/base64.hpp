#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace inferencesh::common {

/// Decodes base64 in the standard or the URL-safe alphabet, with or without padding. ASCII
/// whitespace is skipped when `skip_whitespace` is set (data URIs may be wrapped). Returns
/// nullopt for anything else, or when the result would exceed `max_bytes`.
std::optional<std::string> decode_base64(
    std::string_view text, bool skip_whitespace = false,
    std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());

/// Encodes bytes as standard, padded base64.
std::string encode_base64(std::string_view bytes);

/// True for strict standard base64 (padded, length a multiple of 4) of at least `min_length`
/// characters: the Python SDK's test for "this string is a file".
bool is_strict_base64(std::string_view text, std::size_t min_length);

}  // namespace inferencesh::common
