#pragma once

// output_meta: what a task consumed and produced, for pricing. Every app output carries it
// (derive the output type from infsh::BaseAppOutput); the platform prices tasks from it.
//
//   struct Output : infsh::BaseAppOutput { infsh::File image; };
//   Output out{.image = infsh::File::from_path(path)};
//   out.output_meta = infsh::OutputMeta{
//       .inputs = {infsh::TextMeta{.tokens = 12}},
//       .outputs = {infsh::ImageMeta{.width = 512, .height = 512, .count = 1}}};

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "infsh/model.hpp"

namespace infsh {

/// Text consumed or produced (e.g. LLM tokens).
struct TextMeta {
  std::string type = "text";
  std::optional<JsonObject> extra;  ///< app-specific pricing factors
  std::int64_t tokens = 0;          ///< in inputs: input tokens; in outputs: output tokens
};

/// Images consumed or produced.
struct ImageMeta {
  std::string type = "image";
  std::optional<JsonObject> extra;
  std::int64_t width = 0;
  std::int64_t height = 0;
  double resolution_mp = 0;  ///< width * height / 1'000'000
  std::int64_t steps = 0;    ///< diffusion steps
  std::int64_t count = 1;    ///< number of images
};

/// Video consumed or produced.
struct VideoMeta {
  std::string type = "video";
  std::optional<JsonObject> extra;
  std::int64_t width = 0;
  std::int64_t height = 0;
  double resolution_mp = 0;               ///< megapixels per frame
  std::optional<std::string> resolution;  ///< "480p", "720p", "1080p", "1440p" or "4k"
  double seconds = 0;
  std::int64_t fps = 0;
};

/// Audio consumed or produced.
struct AudioMeta {
  std::string type = "audio";
  std::optional<JsonObject> extra;
  double seconds = 0;
  std::int64_t sample_rate = 0;  ///< Hz
};

/// Anything else, priced by the app itself.
struct RawMeta {
  std::string type = "raw";
  std::optional<JsonObject> extra;
  double cost = 0;  ///< dollar cents
};

/// One item of output_meta; its "type" says which.
using MetaItem = std::variant<TextMeta, ImageMeta, VideoMeta, AudioMeta, RawMeta>;

/// What a task consumed (inputs) and produced (outputs).
struct OutputMeta {
  std::vector<MetaItem> inputs;
  std::vector<MetaItem> outputs;
};

/// Base of every app output type: adds the optional `output_meta` field, which the schema
/// lists after the output's own fields.
struct BaseAppOutput {
  std::optional<OutputMeta> output_meta;
};

inline constexpr const char* kExtraDescription =
    "App-specific key-value pairs for custom pricing factors";

INFSH_MODEL(TextMeta, description("Metadata for text inputs/outputs (e.g., LLM tokens)."),
            INFSH_FIELD(type).with_default(), INFSH_FIELD(extra).description(kExtraDescription),
            INFSH_FIELD(tokens)
                .description("Token count - in inputs[] = input tokens, in outputs[] = output "
                             "tokens")
                .with_default())

INFSH_MODEL(ImageMeta, description("Metadata for image inputs/outputs."),
            INFSH_FIELD(type).with_default(), INFSH_FIELD(extra).description(kExtraDescription),
            INFSH_FIELD(width).description("Image width in pixels").with_default(),
            INFSH_FIELD(height).description("Image height in pixels").with_default(),
            INFSH_FIELD(resolution_mp)
                .description("Resolution in megapixels (width * height / 1_000_000)")
                .with_default()
                .schema_default(0),
            INFSH_FIELD(steps).description("Number of diffusion steps").with_default(),
            INFSH_FIELD(count).description("Number of images").with_default())

INFSH_MODEL(
    VideoMeta, description("Metadata for video inputs/outputs."), INFSH_FIELD(type).with_default(),
    INFSH_FIELD(extra).description(kExtraDescription),
    INFSH_FIELD(width).description("Video width in pixels").with_default(),
    INFSH_FIELD(height).description("Video height in pixels").with_default(),
    INFSH_FIELD(resolution_mp)
        .description("Resolution in megapixels per frame")
        .with_default()
        .schema_default(0),
    INFSH_FIELD(resolution)
        .description("Standard resolution preset (480p, 720p, 1080p, 1440p, 4k)"),
    INFSH_FIELD(seconds).description("Duration in seconds").with_default().schema_default(0),
    INFSH_FIELD(fps).description("Frames per second").with_default())

INFSH_MODEL(
    AudioMeta, description("Metadata for audio inputs/outputs."), INFSH_FIELD(type).with_default(),
    INFSH_FIELD(extra).description(kExtraDescription),
    INFSH_FIELD(seconds).description("Duration in seconds").with_default().schema_default(0),
    INFSH_FIELD(sample_rate).description("Sample rate in Hz").with_default())

INFSH_MODEL(RawMeta, description("Metadata for raw inputs/outputs used for custom pricing."),
            INFSH_FIELD(type).with_default(), INFSH_FIELD(extra).description(kExtraDescription),
            INFSH_FIELD(cost).description("Cost in dollar cents").with_default().schema_default(0))

namespace detail {

/// Meta items are told apart by their "type", not by trying each alternative.
template <>
struct Codec<MetaItem> : VariantCodec<TextMeta, ImageMeta, VideoMeta, AudioMeta, RawMeta> {
  static void decode(const nlohmann::json& j, MetaItem& out, const Location& where, Issues& issues,
                     const Constraints*) {
    if (!j.is_object()) {
      issues.push_back({where.path(), "expected object, got " + json_type_name(j)});
      return;
    }
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string()) {
      issues.push_back(
          {where.child("type").path(), "expected one of 'text', 'image', 'video', 'audio', 'raw'"});
      return;
    }
    const auto& name = type->get_ref<const std::string&>();
    if (name == "text") return decode_as<TextMeta>(j, out, where, issues);
    if (name == "image") return decode_as<ImageMeta>(j, out, where, issues);
    if (name == "video") return decode_as<VideoMeta>(j, out, where, issues);
    if (name == "audio") return decode_as<AudioMeta>(j, out, where, issues);
    if (name == "raw") return decode_as<RawMeta>(j, out, where, issues);
    issues.push_back(
        {where.child("type").path(), "must be one of 'text', 'image', 'video', 'audio', 'raw'"});
  }

 private:
  template <class A>
  static void decode_as(const nlohmann::json& j, MetaItem& out, const Location& where,
                        Issues& issues) {
    A value{};
    Codec<A>::decode(j, value, where, issues, nullptr);
    out = std::move(value);
  }
};

}  // namespace detail

INFSH_MODEL(
    OutputMeta,
    description("Structured metadata about task inputs and outputs for pricing "
                "calculation."),
    INFSH_FIELD(inputs).description("Metadata about consumed inputs").with_hidden_default(),
    INFSH_FIELD(outputs).description("Metadata about produced outputs").with_hidden_default())

/// Adds output_meta to every model derived from BaseAppOutput (after its own fields).
template <class Model>
void infsh_inherited_fields(const BaseAppOutput*, ModelInfo<Model>& info) {
  for (const auto& existing : info.fields) {
    if (existing.name == "output_meta") return;
  }
  info.fields.push_back(detail::make_field_info<Model>(
      field(&BaseAppOutput::output_meta, "output_meta")
          .description("Structured metadata about inputs/outputs for pricing calculation")
          .schema_default(nullptr)));
}

}  // namespace infsh
