#pragma once

#include <chrono>
#include <optional>

#include "common/retryable_status.hpp"
#include "inferencesh/client_options.hpp"

namespace inferencesh::detail {

/// Statuses worth another attempt: the rule every repeated request of the SDK follows.
using common::is_retryable_status;

/// Exponential backoff with jitter for retry number `retry` (0 for the first retry):
/// base = min(max_backoff, initial_backoff * multiplier^retry), delay in [base/2, base],
/// `random01` in [0, 1) picking the point.
std::chrono::milliseconds backoff_delay(const RetryOptions& options, int retry,
                                        double random01) noexcept;

/// The delay before retry number `retry`, or nullopt when no retry should happen:
/// retries are used up, or the server's Retry-After exceeds max_retry_after. A Retry-After
/// within the cap replaces the computed backoff when it is longer.
std::optional<std::chrono::milliseconds> retry_delay(
    const RetryOptions& options, int retry, std::optional<std::chrono::seconds> retry_after,
    double random01) noexcept;

/// A uniformly distributed number in [0, 1) from a per-thread generator.
double jitter_random() noexcept;

}  // namespace inferencesh::detail
