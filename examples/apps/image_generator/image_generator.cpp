// An image generator written with infsh: renders the Mandelbrot set as a PNG with real pixels
// from a typed input (size, iterations, a palette, the view) and returns it as a File with
// output_meta for pricing. It shows every part of the app library:
//
// - a setup model (the palette resolution, computed once per warm instance),
// - an input model with defaults, limits and an enum, validated before run() is called,
// - progress, logs, cancellation and a partial output (a coarse preview first),
// - a second function, `palettes`, listing what the palette enum offers.
//
//   image_generator run --input '{"width": 256, "height": 256, "palette": "ocean"}'
//   image_generator schema --out-dir schemas
//   image_generator serve --port 8080      # through infsh-local (see docs/apps.md)

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <complex>
#include <filesystem>
#include <string>
#include <vector>

#include <infsh/infsh.hpp>

#include "png_writer.hpp"

namespace example {

enum class Palette { sunset, ocean, forest, grayscale };
INFSH_ENUM(Palette, {Palette::sunset, "sunset"}, {Palette::ocean, "ocean"},
           {Palette::forest, "forest"}, {Palette::grayscale, "grayscale"})

struct Setup {
  int palette_size = 256;
};
INFSH_MODEL(Setup, description("Configures the warm instance."),
            INFSH_FIELD(palette_size)
                .description("Colours per palette, computed once at setup")
                .minimum(16)
                .maximum(4096)
                .with_default())

struct View {
  double center_x = -0.5;
  double center_y = 0.0;
  double zoom = 1.0;
};
INFSH_MODEL(View, description("Which part of the plane to draw."),
            INFSH_FIELD(center_x).description("Real part of the centre").with_default(),
            INFSH_FIELD(center_y).description("Imaginary part of the centre").with_default(),
            INFSH_FIELD(zoom)
                .description("Magnification; 1 shows the whole set")
                .exclusive_minimum(0)
                .maximum(1e12)
                .with_default())

struct Input {
  int width = 512;
  int height = 512;
  int iterations = 200;
  Palette palette = Palette::sunset;
  View view;
  bool preview = false;
};
INFSH_MODEL(Input, description("Renders the Mandelbrot set."),
            INFSH_FIELD(width)
                .description("Image width in pixels")
                .minimum(16)
                .maximum(2048)
                .with_default(),
            INFSH_FIELD(height)
                .description("Image height in pixels")
                .minimum(16)
                .maximum(2048)
                .with_default(),
            INFSH_FIELD(iterations)
                .description("Iterations per pixel: more shows finer detail and takes longer")
                .minimum(1)
                .maximum(10000)
                .with_default(),
            INFSH_FIELD(palette).description("Colour palette").with_default(),
            INFSH_FIELD(view).description("The part of the plane to draw").with_default(),
            INFSH_FIELD(preview)
                .description("Emit a coarse preview as a partial output before the full image")
                .with_default())

struct Output : infsh::BaseAppOutput {
  infsh::File image;
  int width = 0;
  int height = 0;
};
INFSH_MODEL(Output, INFSH_FIELD(image).description("The rendered PNG image"),
            INFSH_FIELD(width).description("Image width in pixels"),
            INFSH_FIELD(height).description("Image height in pixels"))

struct PalettesInput {};
INFSH_MODEL(PalettesInput, description("No parameters."))

struct PalettesOutput : infsh::BaseAppOutput {
  std::vector<std::string> palettes;
};
INFSH_MODEL(PalettesOutput, INFSH_FIELD(palettes).description("The palettes `run` accepts"))

class ImageGenerator : public infsh::BaseApp {
 public:
  static constexpr const char* app_name = "examples/image-generator";

  static infsh::Functions<ImageGenerator> functions() {
    return {{"run", &ImageGenerator::run, "Renders the Mandelbrot set as a PNG image"},
            {"palettes", &ImageGenerator::palettes, "Lists the palettes"}};
  }

  void setup(const Setup& setup, infsh::Context& context) {
    for (const auto& [palette, name] : infsh::enum_info<Palette>().values) {
      tables_[static_cast<std::size_t>(palette)] = make_table(palette, setup.palette_size);
    }
    context.log("palettes ready with " + std::to_string(setup.palette_size) + " colours each");
  }

  Output run(const Input& input, infsh::Context& context) {
    if (input.preview) {
      const int w = std::max(16, input.width / 8);
      const int h = std::max(16, input.height / 8);
      const RgbImage coarse = render(input, w, h, std::min(input.iterations, 50), nullptr);
      context.partial(save(coarse, context, "preview"));
    }
    const RgbImage image = render(input, input.width, input.height, input.iterations, &context);
    Output output = save(image, context, "image");
    output.output_meta = infsh::OutputMeta{
        .inputs = {},
        .outputs = {infsh::ImageMeta{.width = input.width,
                                     .height = input.height,
                                     .resolution_mp = input.width * input.height / 1e6,
                                     .steps = input.iterations,
                                     .count = 1}}};
    context.log("rendered " + std::to_string(input.width) + "x" + std::to_string(input.height));
    return output;
  }

  PalettesOutput palettes(const PalettesInput&) {
    PalettesOutput output;
    for (const auto& entry : infsh::enum_info<Palette>().values) {
      output.palettes.push_back(entry.second);
    }
    return output;
  }

  void on_cancel() override { cancelled_runs_.fetch_add(1); }

 private:
  using Colour = std::array<std::uint8_t, 3>;

  static std::vector<Colour> make_table(Palette palette, int size) {
    std::vector<Colour> table(static_cast<std::size_t>(size));
    for (int i = 0; i < size; ++i) {
      const double t = static_cast<double>(i) / (size - 1);
      const auto channel = [](double v) {
        return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
      };
      double r = t;
      double g = t;
      double b = t;
      switch (palette) {
        case Palette::sunset:
          r = std::sqrt(t);
          g = t * t;
          b = 0.4 * std::sin(t * 3.14159);
          break;
        case Palette::ocean:
          r = t * t * t;
          g = 0.6 * t;
          b = 0.3 + 0.7 * std::sqrt(t);
          break;
        case Palette::forest:
          r = 0.4 * t * t;
          g = 0.2 + 0.8 * std::sqrt(t);
          b = 0.3 * t;
          break;
        case Palette::grayscale:
          break;
      }
      table[static_cast<std::size_t>(i)] = {channel(r), channel(g), channel(b)};
    }
    return table;
  }

  // Renders with smooth colouring; reports progress and stops when cancelled (context given).
  RgbImage render(const Input& input, int width, int height, int iterations,
                  infsh::Context* context) const {
    const auto& table = tables_[static_cast<std::size_t>(input.palette)];
    RgbImage image;
    image.width = static_cast<std::uint32_t>(width);
    image.height = static_cast<std::uint32_t>(height);
    image.pixels.resize(std::size_t{image.width} * image.height * 3);
    const double scale = 3.0 / input.view.zoom / std::min(width, height);
    for (int y = 0; y < height; ++y) {
      if (context != nullptr && y % 16 == 0) {
        context->throw_if_cancelled();
        context->progress(y, height, "rendering");
      }
      for (int x = 0; x < width; ++x) {
        const std::complex<double> c(input.view.center_x + (x - width / 2.0) * scale,
                                     input.view.center_y + (y - height / 2.0) * scale);
        std::complex<double> z = 0;
        int n = 0;
        while (n < iterations && std::norm(z) <= 16.0) {
          z = z * z + c;
          ++n;
        }
        Colour colour = {0, 0, 0};
        if (n < iterations) {
          const double smooth = n + 1 - std::log2(std::log2(std::abs(z)));
          // A power below 1 spreads the colours over the many pixels that escape early.
          const double t = std::pow(std::clamp(smooth / iterations, 0.0, 1.0), 0.3);
          colour = table[static_cast<std::size_t>(t * static_cast<double>(table.size() - 1))];
        }
        const std::size_t at =
            (static_cast<std::size_t>(y) * image.width + static_cast<std::size_t>(x)) * 3;
        std::copy(colour.begin(), colour.end(),
                  image.pixels.begin() + static_cast<std::ptrdiff_t>(at));
      }
    }
    if (context != nullptr) context->progress(height, height, "rendered");
    return image;
  }

  static Output save(const RgbImage& image, const infsh::Context& context,
                     const std::string& kind) {
    static std::atomic<unsigned> counter{0};
    const auto dir = std::filesystem::temp_directory_path() / "infsh-image-generator";
    std::filesystem::create_directories(dir);
    const std::string id =
        context.task_id().empty()
            ? std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())
            : context.task_id();
    const auto path = dir / (id + "-" + kind + "-" + std::to_string(counter.fetch_add(1)) + ".png");
    write_png(image, path);
    Output output;
    output.image = infsh::File::from_path(path);
    output.width = static_cast<int>(image.width);
    output.height = static_cast<int>(image.height);
    return output;
  }

  std::array<std::vector<Colour>, 4> tables_;
  std::atomic<int> cancelled_runs_{0};
};

}  // namespace example

INFSH_MAIN(example::ImageGenerator)
