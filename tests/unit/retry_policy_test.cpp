#include <catch2/catch.hpp>

#include "retry_policy.hpp"

namespace inf = inferencesh;
namespace detail = inferencesh::detail;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("408, 429 and the transient 5xx statuses are retryable", "[retry]") {
  for (int status : {408, 429, 500, 502, 503, 504}) CHECK(detail::is_retryable_status(status));
  for (int status : {200, 400, 401, 403, 404, 409, 412, 422, 501}) {
    CHECK_FALSE(detail::is_retryable_status(status));
  }
}

TEST_CASE("backoff grows exponentially, stays within jitter bounds and is capped", "[retry]") {
  inf::RetryOptions options;
  options.initial_backoff = milliseconds(100);
  options.multiplier = 2.0;
  options.max_backoff = milliseconds(1000);
  CHECK(detail::backoff_delay(options, 0, 0.0) == milliseconds(50));
  CHECK(detail::backoff_delay(options, 0, 0.999) == milliseconds(99));
  CHECK(detail::backoff_delay(options, 1, 0.0) == milliseconds(100));
  CHECK(detail::backoff_delay(options, 2, 0.0) == milliseconds(200));
  CHECK(detail::backoff_delay(options, 10, 0.0) == milliseconds(500));
  CHECK(detail::backoff_delay(options, 10, 1.0) == milliseconds(1000));
}

TEST_CASE("retries stop after max_retries", "[retry]") {
  inf::RetryOptions options;
  options.max_retries = 2;
  CHECK(detail::retry_delay(options, 0, std::nullopt, 0.5).has_value());
  CHECK(detail::retry_delay(options, 1, std::nullopt, 0.5).has_value());
  CHECK_FALSE(detail::retry_delay(options, 2, std::nullopt, 0.5).has_value());
  options.max_retries = 0;
  CHECK_FALSE(detail::retry_delay(options, 0, std::nullopt, 0.5).has_value());
}

TEST_CASE("Retry-After lengthens the delay but one beyond the cap ends the retries", "[retry]") {
  inf::RetryOptions options;
  options.initial_backoff = milliseconds(100);
  options.max_retry_after = milliseconds(5000);
  CHECK(detail::retry_delay(options, 0, seconds(3), 0.0) == milliseconds(3000));
  CHECK(detail::retry_delay(options, 0, seconds(0), 0.0) == milliseconds(50));
  CHECK_FALSE(detail::retry_delay(options, 0, seconds(6), 0.0).has_value());
}

TEST_CASE("the jitter source yields numbers from 0 up to but not including 1", "[retry]") {
  for (int i = 0; i < 1000; ++i) {
    const double r = detail::jitter_random();
    REQUIRE(r >= 0.0);
    REQUIRE(r < 1.0);
  }
}
