#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace infsh::local {

/// True when `given` equals `expected`, in a time that depends only on `expected`'s length, so
/// timing reveals neither a secret's content nor where a guess goes wrong.
bool constant_time_equal(std::string_view given, std::string_view expected) noexcept;

/// True when `authorization` is "Bearer <key>" (scheme case-insensitive) with exactly `key`.
/// The key comparison takes the same time wherever the first difference is.
bool bearer_matches(std::optional<std::string_view> authorization, const std::string& key) noexcept;

}  // namespace infsh::local
