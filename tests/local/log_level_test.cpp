// The runtime, the app library and the client share one LogLevel.

#include <catch2/catch.hpp>

#include <type_traits>

#include "inferencesh/client_options.hpp"
#include "infsh/context.hpp"
#include "infsh/local/runtime.hpp"

TEST_CASE("the client, the app library and the runtime name log levels with one type") {
  STATIC_REQUIRE(std::is_same_v<infsh::LogLevel, inferencesh::LogLevel>);
  STATIC_REQUIRE(std::is_same_v<infsh::local::LogLevel, inferencesh::LogLevel>);
  // The names each part has always used still resolve.
  CHECK(infsh::to_string(infsh::LogLevel::warning) == "warning");
  CHECK(infsh::local::to_string(infsh::local::LogLevel::off) == "off");
  CHECK(infsh::local::parse_log_level("warn") == infsh::local::LogLevel::warning);
}
