#include "common/percent_encoding.hpp"

namespace inferencesh::common {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes into `out`; false at the first malformed escape when `strict`, which leaves `out`
// partial.
bool decode(std::string_view text, bool strict, std::string& out) {
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      if (strict) return false;
      out.push_back('%');
      continue;
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  if (!decode(text, /*strict=*/true, out)) return std::nullopt;
  return out;
}

std::string percent_decode_lenient(std::string_view text) {
  std::string out;
  decode(text, /*strict=*/false, out);
  return out;
}

}  // namespace inferencesh::common
