#include "data_uri.hpp"

#include "http_message.hpp"

namespace infsh::local {

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::optional<std::string> decode_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = base64_value(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6U) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xffU);
    }
  }
  return out;
}

}  // namespace

std::optional<DataUri> decode_data_uri(std::string_view uri) {
  if (uri.substr(0, 5) != "data:") return std::nullopt;
  const auto comma = uri.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view header = uri.substr(5, comma - 5);
  const std::string_view payload = uri.substr(comma + 1);
  bool base64 = false;
  constexpr std::string_view kBase64 = ";base64";
  if (header.size() >= kBase64.size() &&
      header.substr(header.size() - kBase64.size()) == kBase64) {
    base64 = true;
    header.remove_suffix(kBase64.size());
  }
  DataUri decoded;
  decoded.media_type = header.empty() ? "text/plain" : std::string(header.substr(0, header.find(';')));
  if (decoded.media_type.empty()) decoded.media_type = "text/plain";
  if (base64) {
    auto bytes = decode_base64(payload);
    if (!bytes) return std::nullopt;
    decoded.bytes = std::move(*bytes);
  } else {
    decoded.bytes = percent_decode(payload);
  }
  return decoded;
}

}  // namespace infsh::local
