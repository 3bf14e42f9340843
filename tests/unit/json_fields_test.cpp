// Reading fields of JSON objects: the lenient and the strict flavour.

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"

namespace common = inferencesh::common;
using nlohmann::json;

namespace {

const json kObject = {{"name", "cat"},  {"count", 3},          {"big", 18446744073709551615U},
                      {"ratio", 0.5},   {"none", nullptr},     {"flag", true},
                      {"list", {1, 2}}, {"nested", {{"a", 1}}}};

}  // namespace

TEST_CASE("lenient readers give the fallback for a missing, null or mistyped field",
          "[json_fields]") {
  CHECK(common::string_field_or(kObject, "name") == "cat");
  CHECK(common::string_field_or(kObject, "missing").empty());
  CHECK(common::string_field_or(kObject, "none", "dflt") == "dflt");
  CHECK(common::string_field_or(kObject, "count", "dflt") == "dflt");

  CHECK(common::integer_field_or(kObject, "count") == 3);
  CHECK(common::integer_field_or(kObject, "ratio", -1) == -1);  // not an integer
  CHECK(common::integer_field_or(kObject, "name", 7) == 7);
  CHECK(common::integer_field_or(kObject, "none") == 0);

  CHECK(common::number_field_or(kObject, "ratio") == 0.5);
  CHECK(common::number_field_or(kObject, "count") == 3.0);
  CHECK(common::number_field_or(kObject, "flag", 2.5) == 2.5);

  CHECK(common::field_or_null(kObject, "list") == json({1, 2}));
  CHECK(common::field_or_null(kObject, "none").is_null());
  CHECK(common::field_or_null(kObject, "missing").is_null());
}

TEST_CASE("a value that is not an object has no fields", "[json_fields]") {
  for (const json& other : {json(nullptr), json(1), json("name"), json({"name", "cat"})}) {
    INFO(other.dump());
    CHECK(common::find_field(other, "name") == nullptr);
    CHECK(common::string_field_or(other, "name", "dflt") == "dflt");
    CHECK(common::field_or_null(other, "name").is_null());
    CHECK_FALSE(common::optional_string_field(other, "name").has_value());
  }
}

TEST_CASE("find_field treats null like a missing field", "[json_fields]") {
  CHECK(common::find_field(kObject, "none") == nullptr);
  CHECK(common::find_field(kObject, "missing") == nullptr);
  REQUIRE(common::find_field(kObject, "flag") != nullptr);
  CHECK(*common::find_field(kObject, "flag") == true);
}

TEST_CASE("strict readers refuse a field of another type, naming it, the type wanted and found",
          "[json_fields]") {
  CHECK(common::optional_string_field(kObject, "name") == std::string("cat"));
  CHECK_FALSE(common::optional_string_field(kObject, "none").has_value());
  CHECK_FALSE(common::optional_string_field(kObject, "missing").has_value());
  try {
    (void)common::optional_string_field(kObject, "count");
    FAIL("a number was taken for a string");
  } catch (const common::FieldTypeError& e) {
    CHECK(e.field() == "count");
    CHECK(e.expected() == "a string");
    CHECK(e.actual() == "number");
    CHECK(std::string(e.what()) == "field 'count' must be a string, not number");
  }
  const json* list = common::typed_field(kObject, "list", &json::is_array, "an array");
  REQUIRE(list != nullptr);
  CHECK(list->size() == 2);
  CHECK(common::typed_field(kObject, "none", &json::is_array, "an array") == nullptr);
  CHECK_THROWS_WITH(common::typed_field(kObject, "nested", &json::is_array, "an array"),
                    "field 'nested' must be an array, not object");
  CHECK_THROWS_AS(common::typed_field(kObject, "big", &json::is_string, "a string"),
                  std::invalid_argument);
}
