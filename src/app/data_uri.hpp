#pragma once

// data: URIs (RFC 2397) as the platform accepts them: "data:[<media type>][;base64],<data>".

#include <cstdint>
#include <string>
#include <string_view>

namespace infsh::detail {

/// A decoded data URI.
struct DataUri {
  std::string content_type;  ///< the media type without parameters; "text/plain" when absent
  std::string bytes;
};

/// Decodes a data URI. Base64 may use the URL-safe alphabet and may lack its padding; other
/// payloads are percent-decoded. Throws FileError when the URI is malformed or the decoded
/// bytes exceed `max_bytes`.
DataUri decode_data_uri(std::string_view uri, std::uint64_t max_bytes);

/// Percent-decodes "%41" → "A"; throws FileError on a malformed escape.
std::string percent_decode(std::string_view text);

}  // namespace infsh::detail
