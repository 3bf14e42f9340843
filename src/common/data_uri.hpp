#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace inferencesh::common {

/// The scheme of a URI (RFC 3986: a letter, then letters, digits, '+', '-', '.', then ':'),
/// lower-cased; empty when the text has none, which makes it a local path. The rule by which
/// infsh::File and the runtime tell a URI ("https:", "data:", "file:") from a path.
std::string uri_scheme(std::string_view text);

/// A decoded `data:` URI.
struct DataUri {
  std::string media_type;  ///< e.g. "image/png", without parameters; empty when none was given
  std::string bytes;
};

/// Decodes `data:[<media type>][;params][;base64],<payload>` (RFC 2397): a base64 payload in the
/// standard or URL-safe alphabet, padding optional, or a percent-encoded one. Returns nullopt
/// when it is malformed or decodes to more than `max_bytes`; `error` then says why
/// ("the payload is not valid base64", ...).
std::optional<DataUri> parse_data_uri(
    std::string_view uri, std::string* error = nullptr,
    std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());

}  // namespace inferencesh::common
