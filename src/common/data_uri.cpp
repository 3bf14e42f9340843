#include "common/data_uri.hpp"

#include "common/base64.hpp"
#include "common/percent_encoding.hpp"

namespace inferencesh::common {

std::string uri_scheme(std::string_view text) {
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (c == ':') break;
    if (!letter && !(i > 0 && other)) return {};
  }
  if (i == 0 || i == text.size()) return {};
  std::string scheme(text.substr(0, i));
  for (char& c : scheme) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return scheme;
}
namespace {

std::optional<DataUri> fail(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return std::nullopt;
}

}  // namespace

std::optional<DataUri> parse_data_uri(std::string_view uri, std::string* error,
                                      std::uint64_t max_bytes) {
  constexpr std::string_view kScheme = "data:";
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return fail(error, "it does not start with \"data:\"");
  }
  const auto comma = uri.find(',');
  if (comma == std::string_view::npos) return fail(error, "there is no ',' before the payload");
  const std::string_view header = uri.substr(kScheme.size(), comma - kScheme.size());
  const std::string_view payload = uri.substr(comma + 1);

  DataUri result;
  bool base64 = false;
  std::size_t start = 0;
  for (bool first = true; start <= header.size(); first = false) {
    auto end = header.find(';', start);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view part = header.substr(start, end - start);
    if (first && !part.empty()) {
      if (part.find('/') == std::string_view::npos) {
        return fail(error, "\"" + std::string(part) + "\" is not a media type");
      }
      result.media_type = std::string(part);
    } else if (!first && part == "base64" && end == header.size()) {
      base64 = true;
    }
    start = end + 1;
  }

  if (base64) {
    auto decoded = decode_base64(payload, /*skip_whitespace=*/true, max_bytes);
    if (!decoded) {
      const bool too_large = decode_base64(payload, true).has_value();
      return fail(error, too_large ? "the data exceeds " + std::to_string(max_bytes) + " bytes"
                                   : "the payload is not valid base64");
    }
    result.bytes = std::move(*decoded);
  } else {
    auto decoded = percent_decode(payload);
    if (!decoded) return fail(error, "the payload has a malformed percent-escape");
    if (decoded->size() > max_bytes) {
      return fail(error, "the data exceeds " + std::to_string(max_bytes) + " bytes");
    }
    result.bytes = std::move(*decoded);
  }
  return result;
}

}  // namespace inferencesh::common
