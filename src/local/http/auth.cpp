#include "http/auth.hpp"

#include "http/http_message.hpp"

namespace infsh::local {

bool constant_time_equal(std::string_view given, std::string_view expected) noexcept {
  // Runs over the expected length whatever was given.
  unsigned difference = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    difference |= static_cast<unsigned>(static_cast<unsigned char>(g) ^
                                        static_cast<unsigned char>(expected[i]));
  }
  return difference == 0;
}

bool bearer_matches(std::optional<std::string_view> authorization,
                    const std::string& key) noexcept {
  if (!authorization) return false;
  std::string_view value = *authorization;
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() < scheme.size() || !iequals(value.substr(0, scheme.size()), scheme)) {
    return false;
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return constant_time_equal(value, key);
}

}  // namespace infsh::local
