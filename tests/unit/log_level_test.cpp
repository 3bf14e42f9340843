// The SDK's one LogLevel: names, parsing, order.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "inferencesh/client_options.hpp"
#include "inferencesh/log_level.hpp"

namespace inf = inferencesh;

TEST_CASE("log levels are written by name and parsed back, with warn and none as synonyms") {
  for (const auto level : {inf::LogLevel::debug, inf::LogLevel::info, inf::LogLevel::warning,
                           inf::LogLevel::error, inf::LogLevel::off}) {
    CHECK(inf::parse_log_level(inf::to_string(level)) == level);
  }
  CHECK(inf::to_string(inf::LogLevel::warning) == "warning");
  CHECK(inf::to_string(inf::LogLevel::off) == "off");
  CHECK(inf::parse_log_level("warn") == inf::LogLevel::warning);
  CHECK(inf::parse_log_level("none") == inf::LogLevel::off);
  STATIC_REQUIRE(inf::to_string(inf::LogLevel::error) == "error");
}

TEST_CASE("an unknown log level is refused naming the text and the choices") {
  CHECK_THROWS_AS(inf::parse_log_level("loud"), std::invalid_argument);
  CHECK_THROWS_WITH(inf::parse_log_level("loud"),
                    Catch::Contains("'loud'") && Catch::Contains("debug, info, warning, error or off"));
  CHECK_THROWS_AS(inf::parse_log_level("INFO"), std::invalid_argument);  // names are lowercase
}

TEST_CASE("log levels are ordered from debug to off, so a threshold filters by comparison") {
  STATIC_REQUIRE(inf::LogLevel::debug < inf::LogLevel::info);
  STATIC_REQUIRE(inf::LogLevel::info < inf::LogLevel::warning);
  STATIC_REQUIRE(inf::LogLevel::warning < inf::LogLevel::error);
  STATIC_REQUIRE(inf::LogLevel::error < inf::LogLevel::off);
}
