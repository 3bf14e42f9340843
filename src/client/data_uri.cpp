#include "data_uri.hpp"

#include <array>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

constexpr std::array<signed char, 256> make_decode_table() {
  std::array<signed char, 256> table{};
  for (auto& entry : table) entry = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
  table[static_cast<unsigned char>('-')] = 62;  // URL-safe alphabet
  table[static_cast<unsigned char>('_')] = 63;
  return table;
}
constexpr auto kDecode = make_decode_table();

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  std::size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1) return std::nullopt;
  if (padding > 0 && (text.size() + padding) % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = kDecode[static_cast<unsigned char>(c)];
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

std::string encode_base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U) |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kAlphabet[(n >> 18U) & 63U]);
    out.push_back(kAlphabet[(n >> 12U) & 63U]);
    out.push_back(kAlphabet[(n >> 6U) & 63U]);
    out.push_back(kAlphabet[n & 63U]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U;
    out.push_back(kAlphabet[(n >> 18U) & 63U]);
    out.push_back(kAlphabet[(n >> 12U) & 63U]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6U) & 63U] : '=');
    out.push_back('=');
  }
  return out;
}

bool is_strict_base64(std::string_view text, std::size_t min_length) {
  if (text.size() < min_length || text.empty() || text.size() % 4 != 0) return false;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    const bool standard = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!standard) break;
  }
  const std::size_t padding = text.size() - i;
  if (padding > 2) return false;
  for (; i < text.size(); ++i) {
    if (text[i] != '=') return false;
  }
  return decode_base64(text).has_value();
}

DataUri parse_data_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "data:";
  if (uri.substr(0, kScheme.size()) != kScheme) {
    throw InvalidArgumentError("invalid data URI: it must start with \"data:\"");
  }
  const auto comma = uri.find(',');
  if (comma == std::string_view::npos) {
    throw InvalidArgumentError("invalid data URI: there is no ',' before the payload");
  }
  std::string_view header = uri.substr(kScheme.size(), comma - kScheme.size());
  const std::string_view payload = uri.substr(comma + 1);
  bool base64 = false;
  constexpr std::string_view kBase64 = ";base64";
  if (header.size() >= kBase64.size() && header.substr(header.size() - kBase64.size()) == kBase64) {
    base64 = true;
    header.remove_suffix(kBase64.size());
  }
  DataUri result;
  const auto semicolon = header.find(';');
  result.media_type = std::string(header.substr(0, semicolon));
  if (!result.media_type.empty() && result.media_type.find('/') == std::string::npos) {
    throw InvalidArgumentError("invalid data URI: \"" + result.media_type +
                               "\" is not a media type");
  }
  if (base64) {
    auto decoded = decode_base64(payload);
    if (!decoded) throw InvalidArgumentError("invalid data URI: the payload is not valid base64");
    result.bytes = std::move(*decoded);
    return result;
  }
  result.bytes.reserve(payload.size());
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] != '%') {
      result.bytes.push_back(payload[i]);
      continue;
    }
    const int high = i + 2 < payload.size() ? hex_value(payload[i + 1]) : -1;
    const int low = i + 2 < payload.size() ? hex_value(payload[i + 2]) : -1;
    if (high < 0 || low < 0) {
      throw InvalidArgumentError("invalid data URI: bad percent-escape at offset " +
                                 std::to_string(comma + 1 + i));
    }
    result.bytes.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return result;
}

}  // namespace inferencesh::detail
