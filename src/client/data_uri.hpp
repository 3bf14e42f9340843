#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace inferencesh::detail {

/// Decodes base64 in the standard or the URL-safe alphabet, with or without padding.
/// Returns nullopt for anything else (stray characters, impossible lengths, bad padding).
std::optional<std::string> decode_base64(std::string_view text);

/// Encodes bytes as standard, padded base64.
std::string encode_base64(std::string_view bytes);

/// True for strict standard base64 (padded, length a multiple of 4) of at least `min_length`
/// characters that decodes: the Python SDK's test for "this string is a file".
bool is_strict_base64(std::string_view text, std::size_t min_length);

/// A decoded `data:` URI.
struct DataUri {
  std::string media_type;  ///< e.g. "image/png"; empty when the URI gave none
  std::string bytes;
};

/// Parses `data:[<media type>][;params][;base64],<payload>`: a base64 payload (standard or
/// URL-safe, padding optional) or a percent-encoded one. Throws InvalidArgumentError naming
/// what is wrong.
DataUri parse_data_uri(std::string_view uri);

}  // namespace inferencesh::detail
