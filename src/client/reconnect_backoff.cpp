#include "reconnect_backoff.hpp"

#include <algorithm>
#include <cmath>

#include "retry_policy.hpp"

namespace inferencesh::detail {

ReconnectBackoff::ReconnectBackoff(const WaitDefaults& wait, int max_reconnects)
    : first_(wait.reconnect_backoff),
      cap_(wait.max_reconnect_backoff),
      max_reconnects_(std::max(0, max_reconnects)) {}

std::optional<std::chrono::milliseconds> ReconnectBackoff::next_delay() {
  ++failures_;
  if (failures_ > max_reconnects_) return std::nullopt;
  const double grown =
      static_cast<double>(first_.count()) * std::pow(2.0, static_cast<double>(failures_ - 1));
  const double capped = std::min(grown, static_cast<double>(cap_.count()));
  return std::chrono::milliseconds(
      static_cast<long long>(capped / 2.0 + jitter_random() * capped / 2.0));
}

}  // namespace inferencesh::detail
