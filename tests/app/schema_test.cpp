// JSON Schemas of infsh models: each field kind against the shape the platform generates
// (pydantic's, with the SDK's declaration order), compared key order included.

#include <catch2/catch.hpp>

#include <infsh/infsh.hpp>

namespace schema_test {

using nlohmann::ordered_json;

enum class Quality { low, high };
INFSH_ENUM(Quality, {Quality::low, "low"}, {Quality::high, "high"})

struct Size {
  int width = 512;
  int height = 512;
};
INFSH_MODEL(Size, description("A size in pixels."),
            INFSH_FIELD(width).minimum(16).maximum(2048).with_default(),
            INFSH_FIELD(height).minimum(16).maximum(2048).with_default())

struct Scalars {
  std::string prompt;
  int max_results = 10;
  double strength = 0.5;
  bool watermark = false;
  std::string negative_prompt;
};
INFSH_MODEL(Scalars, description("Input schema for a test."),
            INFSH_FIELD(prompt).description("The prompt").min_length(1).max_length(500),
            INFSH_FIELD(max_results)
                .description("number of results")
                .minimum(1)
                .maximum(100)
                .with_default(),
            INFSH_FIELD(strength).exclusive_minimum(0).exclusive_maximum(1).with_default(),
            INFSH_FIELD(watermark).description("Add a watermark").with_default(),
            INFSH_FIELD(negative_prompt).with_default())

struct Optionals {
  std::optional<std::string> category;
  std::optional<std::string> sort_by = "relevance";
  std::optional<std::int64_t> seed;
  std::optional<std::vector<infsh::File>> reference_images;
};
INFSH_MODEL(Optionals, INFSH_FIELD(category).description("filter by category"),
            INFSH_FIELD(sort_by).description("sort by"),
            INFSH_FIELD(seed).description("Random seed").minimum(0).maximum(2147483647),
            INFSH_FIELD(reference_images).description("Reference images").min_items(1).max_items(3))

struct References {
  Quality quality = Quality::high;
  std::optional<Quality> fallback;
  Size size;
  std::optional<Size> thumbnail;
  std::vector<Quality> qualities;
};
INFSH_MODEL(References, INFSH_FIELD(quality).description("Quality").with_default(),
            INFSH_FIELD(fallback), INFSH_FIELD(size).description("Output size"),
            INFSH_FIELD(thumbnail), INFSH_FIELD(qualities).with_default())

struct Containers {
  infsh::File image;
  std::vector<infsh::File> images;
  std::optional<infsh::File> mask;
  std::vector<infsh::JsonObject> results;
  infsh::JsonObject options;
  nlohmann::json anything;
  std::vector<std::string> tags;
  std::map<std::string, int> weights;
};
INFSH_MODEL(
    Containers, INFSH_FIELD(image).description("The image"), INFSH_FIELD(images), INFSH_FIELD(mask),
    INFSH_FIELD(results).description("list of papers"), INFSH_FIELD(options), INFSH_FIELD(anything),
    INFSH_FIELD(tags).min_items(1).max_items(5).examples(nlohmann::json::parse(R"([["a", "b"]])")),
    INFSH_FIELD(weights).with_default())

struct Extras {
  std::string mode = "fast";
  std::string code;
  std::string num2d_x;
  std::string label;
};
INFSH_MODEL(Extras, INFSH_FIELD(mode).choices({"fast", "slow"}).with_default(),
            INFSH_FIELD(code).pattern("^[A-Z]{3}$").schema_extra({{"x-promoted", true}}),
            INFSH_FIELD(num2d_x), field(&Extras::label, "label").title("Custom Title"))

struct Out : infsh::BaseAppOutput {
  std::vector<infsh::File> images;
};
INFSH_MODEL(Out, title("AppOutput"), description("Output schema for a test."),
            INFSH_FIELD(images).description("Generated images."))

struct Empty {};
INFSH_MODEL(Empty)

namespace a {
struct Twin {
  int x = 0;
};
INFSH_MODEL(Twin, INFSH_FIELD(x))
}  // namespace a
namespace b {
struct Twin {
  int y = 0;
};
INFSH_MODEL(Twin, INFSH_FIELD(y))
}  // namespace b
struct BothTwins {
  a::Twin first;
  b::Twin second;
};
INFSH_MODEL(BothTwins, INFSH_FIELD(first), INFSH_FIELD(second))

struct Misdeclared {
  std::string name;
};
INFSH_MODEL(Misdeclared, INFSH_FIELD(name).minimum(3))

}  // namespace schema_test

using namespace schema_test;

TEST_CASE(
    "scalar fields get title, description, default, limits and required in pydantic's shape") {
  const auto expected = ordered_json::parse(R"({
    "description": "Input schema for a test.",
    "properties": {
      "prompt": {"description": "The prompt", "maxLength": 500, "minLength": 1, "title": "Prompt", "type": "string"},
      "max_results": {"default": 10, "description": "number of results", "maximum": 100, "minimum": 1, "title": "Max Results", "type": "integer"},
      "strength": {"default": 0.5, "exclusiveMaximum": 1, "exclusiveMinimum": 0, "title": "Strength", "type": "number"},
      "watermark": {"default": false, "description": "Add a watermark", "title": "Watermark", "type": "boolean"},
      "negative_prompt": {"default": "", "title": "Negative Prompt", "type": "string"}
    },
    "required": ["prompt"],
    "title": "Scalars",
    "type": "object"
  })");
  CHECK(infsh::json_schema<Scalars>() == expected);
}

TEST_CASE("optional fields are anyOf with null, default null, and keep their limits inside") {
  const auto expected = ordered_json::parse(R"({
    "properties": {
      "category": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "description": "filter by category", "title": "Category"},
      "sort_by": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": "relevance", "description": "sort by", "title": "Sort By"},
      "seed": {"anyOf": [{"maximum": 2147483647, "minimum": 0, "type": "integer"}, {"type": "null"}], "default": null, "description": "Random seed", "title": "Seed"},
      "reference_images": {"anyOf": [{"items": {"format": "file", "type": "string"}, "maxItems": 3, "minItems": 1, "type": "array"}, {"type": "null"}], "default": null, "description": "Reference images", "title": "Reference Images"}
    },
    "title": "Optionals",
    "type": "object"
  })");
  CHECK(infsh::json_schema<Optionals>() == expected);
}

TEST_CASE("enums and nested models go to $defs and are referenced without a title") {
  const auto expected = ordered_json::parse(R"({
    "$defs": {
      "Quality": {"enum": ["low", "high"], "title": "Quality", "type": "string"},
      "Size": {
        "description": "A size in pixels.",
        "properties": {
          "width": {"default": 512, "maximum": 2048, "minimum": 16, "title": "Width", "type": "integer"},
          "height": {"default": 512, "maximum": 2048, "minimum": 16, "title": "Height", "type": "integer"}
        },
        "title": "Size",
        "type": "object"
      }
    },
    "properties": {
      "quality": {"$ref": "#/$defs/Quality", "default": "high", "description": "Quality"},
      "fallback": {"anyOf": [{"$ref": "#/$defs/Quality"}, {"type": "null"}], "default": null},
      "size": {"$ref": "#/$defs/Size", "description": "Output size"},
      "thumbnail": {"anyOf": [{"$ref": "#/$defs/Size"}, {"type": "null"}], "default": null},
      "qualities": {"default": [], "items": {"$ref": "#/$defs/Quality"}, "title": "Qualities", "type": "array"}
    },
    "required": ["size"],
    "title": "References",
    "type": "object"
  })");
  CHECK(infsh::json_schema<References>() == expected);
}

TEST_CASE("files, arrays, objects and any values have the platform's shapes") {
  const auto expected = ordered_json::parse(R"({
    "properties": {
      "image": {"description": "The image", "format": "file", "title": "Image", "type": "string"},
      "images": {"items": {"format": "file", "type": "string"}, "title": "Images", "type": "array"},
      "mask": {"anyOf": [{"format": "file", "type": "string"}, {"type": "null"}], "default": null, "title": "Mask"},
      "results": {"description": "list of papers", "items": {"additionalProperties": true, "type": "object"}, "title": "Results", "type": "array"},
      "options": {"additionalProperties": true, "title": "Options", "type": "object"},
      "anything": {"title": "Anything"},
      "tags": {"examples": [["a", "b"]], "items": {"type": "string"}, "maxItems": 5, "minItems": 1, "title": "Tags", "type": "array"},
      "weights": {"additionalProperties": {"type": "integer"}, "default": {}, "title": "Weights", "type": "object"}
    },
    "required": ["image", "images", "results", "options", "anything", "tags"],
    "title": "Containers",
    "type": "object"
  })");
  CHECK(infsh::json_schema<Containers>() == expected);
}

TEST_CASE("choices, patterns, extra keywords and explicit titles appear in the field's schema") {
  const auto expected = ordered_json::parse(R"({
    "properties": {
      "mode": {"default": "fast", "enum": ["fast", "slow"], "title": "Mode", "type": "string"},
      "code": {"pattern": "^[A-Z]{3}$", "title": "Code", "type": "string", "x-promoted": true},
      "num2d_x": {"title": "Num2D X", "type": "string"},
      "label": {"title": "Custom Title", "type": "string"}
    },
    "required": ["code", "num2d_x", "label"],
    "title": "Extras",
    "type": "object"
  })");
  CHECK(infsh::json_schema<Extras>() == expected);
}

TEST_CASE("titles are the field names title-cased as Python's str.title() does") {
  using infsh::detail::title_case;
  CHECK(title_case("max_results") == "Max Results");
  CHECK(title_case("resolution_mp") == "Resolution Mp");
  CHECK(title_case("imageURL") == "Imageurl");
  CHECK(title_case("num2d_x") == "Num2D X");
  CHECK(title_case("x") == "X");
}

TEST_CASE("every output schema ends with output_meta and carries the platform's meta $defs") {
  const ordered_json schema = infsh::json_schema<Out>();
  const auto& properties = schema.at("properties");
  REQUIRE(properties.size() == 2);
  CHECK(properties.begin().key() == "images");
  CHECK((++properties.begin()).key() == "output_meta");
  CHECK(properties.at("output_meta") == ordered_json::parse(R"({
    "anyOf": [{"$ref": "#/$defs/OutputMeta"}, {"type": "null"}],
    "default": null,
    "description": "Structured metadata about inputs/outputs for pricing calculation"
  })"));
  CHECK(schema.at("required") == ordered_json::parse(R"(["images"])"));
  CHECK(schema.at("title") == "AppOutput");

  const auto& defs = schema.at("$defs");
  std::vector<std::string> names;
  for (const auto& item : defs.items()) names.push_back(item.key());
  CHECK(names == std::vector<std::string>{"AudioMeta", "ImageMeta", "OutputMeta", "RawMeta",
                                          "TextMeta", "VideoMeta"});
  // The exact text of two definitions as the platform publishes them (0 defaults included).
  CHECK(defs.at("ImageMeta").dump() == ordered_json::parse(R"js({
    "description": "Metadata for image inputs/outputs.",
    "properties": {
      "type": {"default": "image", "title": "Type", "type": "string"},
      "extra": {"anyOf": [{"additionalProperties": true, "type": "object"}, {"type": "null"}], "default": null, "description": "App-specific key-value pairs for custom pricing factors", "title": "Extra"},
      "width": {"default": 0, "description": "Image width in pixels", "title": "Width", "type": "integer"},
      "height": {"default": 0, "description": "Image height in pixels", "title": "Height", "type": "integer"},
      "resolution_mp": {"default": 0, "description": "Resolution in megapixels (width * height / 1_000_000)", "title": "Resolution Mp", "type": "number"},
      "steps": {"default": 0, "description": "Number of diffusion steps", "title": "Steps", "type": "integer"},
      "count": {"default": 1, "description": "Number of images", "title": "Count", "type": "integer"}
    },
    "title": "ImageMeta",
    "type": "object"
  })js")
                                           .dump());
  CHECK(defs.at("OutputMeta").at("properties").dump() == ordered_json::parse(R"({
    "inputs": {"description": "Metadata about consumed inputs", "items": {"anyOf": [{"$ref": "#/$defs/TextMeta"}, {"$ref": "#/$defs/ImageMeta"}, {"$ref": "#/$defs/VideoMeta"}, {"$ref": "#/$defs/AudioMeta"}, {"$ref": "#/$defs/RawMeta"}]}, "title": "Inputs", "type": "array"},
    "outputs": {"description": "Metadata about produced outputs", "items": {"anyOf": [{"$ref": "#/$defs/TextMeta"}, {"$ref": "#/$defs/ImageMeta"}, {"$ref": "#/$defs/VideoMeta"}, {"$ref": "#/$defs/AudioMeta"}, {"$ref": "#/$defs/RawMeta"}]}, "title": "Outputs", "type": "array"}
  })")
                                                             .dump());
  CHECK(defs.at("VideoMeta").at("properties").at("resolution") == ordered_json::parse(R"js({
    "anyOf": [{"type": "string"}, {"type": "null"}], "default": null,
    "description": "Standard resolution preset (480p, 720p, 1080p, 1440p, 4k)", "title": "Resolution"
  })js"));
}

TEST_CASE("a model without fields has empty properties and no required list") {
  CHECK(infsh::json_schema<Empty>() ==
        ordered_json::parse(R"({"properties": {}, "title": "Empty", "type": "object"})"));
}

TEST_CASE("two different models with one name in one schema are refused") {
  CHECK_THROWS_WITH(infsh::json_schema<BothTwins>(), Catch::Contains("both called Twin"));
}

TEST_CASE("a limit that does not fit the field's type is refused when the model is first used") {
  CHECK_THROWS_WITH(infsh::json_schema<Misdeclared>(),
                    Catch::Contains("field name: minimum/maximum applies to numbers"));
}

TEST_CASE("the schema text is pretty-printed in pydantic's key order") {
  // Alphabetical everywhere except inside properties, where declaration order rules.
  CHECK(
      infsh::json_schema<Size>().dump() ==
      R"({"description":"A size in pixels.","properties":{"width":{"default":512,"maximum":2048,"minimum":16,"title":"Width","type":"integer"},"height":{"default":512,"maximum":2048,"minimum":16,"title":"Height","type":"integer"}},"title":"Size","type":"object"})");
}

TEST_CASE("file locations list where Files can appear, with * for array items") {
  CHECK(infsh::file_locations<Containers>() ==
        std::vector<std::string>{"/image", "/images/*", "/mask"});
  CHECK(infsh::file_locations<Optionals>() == std::vector<std::string>{"/reference_images/*"});
  CHECK(infsh::file_locations<Scalars>().empty());
}
