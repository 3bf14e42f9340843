#pragma once

// Decoding `data:` URIs found in task input: "data:[<type>][;base64],<data>", base64 (standard
// or URL-safe, padding optional) or percent-encoded text, as the official SDKs produce them.

#include <optional>
#include <string>
#include <string_view>

namespace infsh::local {

struct DataUri {
  std::string media_type;  ///< "text/plain" when the URI names none
  std::string bytes;
};

/// The decoded URI, or nullopt when `uri` is not a well-formed data URI.
std::optional<DataUri> decode_data_uri(std::string_view uri);

}  // namespace infsh::local
