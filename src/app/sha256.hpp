#pragma once

// SHA-256 for the file cache's keys, from OpenSSL's libcrypto; not meant for secrets.

#include <string>
#include <string_view>

namespace infsh::detail {

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace infsh::detail
