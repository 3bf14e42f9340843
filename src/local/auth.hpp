#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace infsh::local {

/// True when `authorization` is "Bearer <key>" (scheme case-insensitive) with exactly `key`.
/// The key comparison takes the same time wherever the first difference is.
bool bearer_matches(std::optional<std::string_view> authorization, const std::string& key) noexcept;

}  // namespace infsh::local
