#pragma once

// SHA-256 (FIPS 180-4), for the file cache's keys. Small and self-contained, so the library
// needs no crypto dependency; not meant for secrets.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace infsh::detail {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  /// Adds bytes to the message.
  void update(std::string_view bytes);
  /// Finishes and returns the digest; the object must not be used afterwards.
  std::array<std::uint8_t, 32> finish();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes so far
};

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace infsh::detail
