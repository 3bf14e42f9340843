#include "retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace inferencesh::detail {

std::chrono::milliseconds backoff_delay(const RetryOptions& options, int retry,
                                        double random01) noexcept {
  const double initial =
      static_cast<double>(std::max<long long>(0, options.initial_backoff.count()));
  const double cap = static_cast<double>(std::max<long long>(0, options.max_backoff.count()));
  const double grown = initial * std::pow(std::max(1.0, options.multiplier), std::max(0, retry));
  const double base = std::min(cap, grown);
  const double r = std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(base / 2.0 + r * base / 2.0));
}

std::optional<std::chrono::milliseconds> retry_delay(
    const RetryOptions& options, int retry, std::optional<std::chrono::seconds> retry_after,
    double random01) noexcept {
  if (retry >= options.max_retries) return std::nullopt;
  auto delay = backoff_delay(options, retry, random01);
  if (retry_after) {
    const auto asked = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
    if (asked > options.max_retry_after) return std::nullopt;
    delay = std::max(delay, asked);
  }
  return delay;
}

double jitter_random() noexcept {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace inferencesh::detail
