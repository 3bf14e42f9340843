#include "data_uri.hpp"

#include <array>

#include "infsh/errors.hpp"

namespace infsh::detail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_' are the URL-safe alphabet
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string base64_decode(std::string_view text, std::uint64_t max_bytes) {
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (const char c : text) {
    if (c == '=') {
      padding = true;
      continue;
    }
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    const int value = base64_value(c);
    if (value < 0 || padding) throw FileError("malformed data URI: invalid base64 payload");
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU);
      if (bytes.size() > max_bytes) {
        throw FileError("data URI is larger than the limit of " + std::to_string(max_bytes) +
                        " bytes");
      }
    }
  }
  if (bits >= 6) throw FileError("malformed data URI: truncated base64 payload");
  return bytes;
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      result += text[i];
      continue;
    }
    if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) {
      throw FileError("malformed percent-encoding in '" + std::string(text.substr(0, 64)) + "'");
    }
    result += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
    i += 2;
  }
  return result;
}

DataUri decode_data_uri(std::string_view uri, std::uint64_t max_bytes) {
  constexpr std::string_view kPrefix = "data:";
  if (uri.size() < kPrefix.size() || uri.substr(0, kPrefix.size()) != kPrefix) {
    throw FileError("not a data URI");
  }
  const auto comma = uri.find(',');
  if (comma == std::string_view::npos)
    throw FileError("malformed data URI: no ',' before the data");
  const std::string_view header = uri.substr(kPrefix.size(), comma - kPrefix.size());
  const std::string_view payload = uri.substr(comma + 1);

  DataUri result;
  bool base64 = false;
  std::size_t start = 0;
  bool first = true;
  while (start <= header.size()) {
    auto end = header.find(';', start);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view part = header.substr(start, end - start);
    if (first && part.find('/') != std::string_view::npos) {
      result.content_type = std::string(part);
    } else if (part == "base64") {
      base64 = true;
    }
    first = false;
    start = end + 1;
  }
  if (result.content_type.empty()) result.content_type = "text/plain";

  if (base64) {
    result.bytes = base64_decode(payload, max_bytes);
  } else {
    result.bytes = percent_decode(payload);
    if (result.bytes.size() > max_bytes) {
      throw FileError("data URI is larger than the limit of " + std::to_string(max_bytes) +
                      " bytes");
    }
  }
  return result;
}

}  // namespace infsh::detail
