#include "common/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>

namespace inferencesh::common {
namespace {

constexpr std::uint8_t kNotBase64 = 0xFF;

// The standard and the URL-safe alphabet at once: data URIs and file inputs come in both.
constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& entry : table) entry = kNotBase64;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  table[static_cast<unsigned char>('-')] = 62;
  table[static_cast<unsigned char>('_')] = 63;
  return table;
}
constexpr auto kDecode = make_decode_table();

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

// Not libcrypto's EVP_DecodeBlock: it takes neither the URL-safe alphabet nor unpadded input,
// which data URIs carry, and cannot stop at max_bytes.
std::optional<std::string> decode_base64(std::string_view text, bool skip_whitespace,
                                         std::uint64_t max_bytes) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    if (skip_whitespace && is_space(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const std::uint8_t value = kDecode[static_cast<unsigned char>(c)];
    if (value == kNotBase64 || padding > 0) return std::nullopt;  // padding only at the end
    ++symbols;
    buffer = (buffer << 6U) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
      if (out.size() > max_bytes) return std::nullopt;
    }
  }
  if (symbols % 4 == 1 || padding > 2) return std::nullopt;
  if (padding > 0 && (symbols + padding) % 4 != 0) return std::nullopt;
  return out;
}

std::string encode_base64(std::string_view bytes) {
  // EVP_EncodeBlock takes an int length: encode in chunks of whole 3-byte groups.
  constexpr std::size_t kChunk = std::size_t{3} << 20;
  std::string out((bytes.size() + 2) / 3 * 4, '\0');
  std::size_t written = 0;
  for (std::size_t at = 0; at < bytes.size(); at += kChunk) {
    const std::size_t length = std::min(kChunk, bytes.size() - at);
    written += static_cast<std::size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data() + written),
        reinterpret_cast<const unsigned char*>(bytes.data() + at), static_cast<int>(length)));
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
  if (text.size() - i > 2) return false;
  for (; i < text.size(); ++i) {
    if (text[i] != '=') return false;
  }
  return decode_base64(text).has_value();
}

}  // namespace inferencesh::common
