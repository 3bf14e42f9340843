#pragma once

// A minimal PNG encoder for the example app: 8-bit RGB, no compression (stored deflate
// blocks), so it needs no zlib. Any PNG reader opens the result.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace example {

/// An RGB image, row by row, 3 bytes per pixel.
struct RgbImage {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 3
};

/// The PNG file for `image`, as bytes.
std::string encode_png(const RgbImage& image);

/// Writes `image` as a PNG file; throws std::runtime_error when it cannot.
void write_png(const RgbImage& image, const std::filesystem::path& path);

}  // namespace example
