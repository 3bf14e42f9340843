#include "png_writer.hpp"

#include <array>
#include <fstream>
#include <stdexcept>

namespace example {
namespace {

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1U) : c >> 1U;
    table[n] = c;
  }
  return table;
}

std::uint32_t crc32(const std::string& bytes, std::size_t from) {
  static const auto table = make_crc_table();
  std::uint32_t c = 0xFFFFFFFFU;
  for (std::size_t i = from; i < bytes.size(); ++i) {
    c = table[(c ^ static_cast<std::uint8_t>(bytes[i])) & 0xFFU] ^ (c >> 8U);
  }
  return c ^ 0xFFFFFFFFU;
}

void put32(std::string& out, std::uint32_t value) {
  out += static_cast<char>((value >> 24U) & 0xFFU);
  out += static_cast<char>((value >> 16U) & 0xFFU);
  out += static_cast<char>((value >> 8U) & 0xFFU);
  out += static_cast<char>(value & 0xFFU);
}

void chunk(std::string& png, const char* type, const std::string& data) {
  put32(png, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = png.size();
  png += type;
  png += data;
  put32(png, crc32(png, start));
}

// A zlib stream of stored (uncompressed) deflate blocks, at most 65535 bytes each.
std::string zlib_stored(const std::string& raw) {
  std::string out = "\x78\x01";
  std::size_t at = 0;
  do {
    const std::size_t length = std::min<std::size_t>(65535, raw.size() - at);
    const bool last = at + length == raw.size();
    out += static_cast<char>(last ? 1 : 0);
    out += static_cast<char>(length & 0xFFU);
    out += static_cast<char>((length >> 8U) & 0xFFU);
    out += static_cast<char>(~length & 0xFFU);
    out += static_cast<char>((~length >> 8U) & 0xFFU);
    out.append(raw, at, length);
    at += length;
  } while (at < raw.size());
  std::uint32_t a = 1;
  std::uint32_t b = 0;
  for (const char c : raw) {
    a = (a + static_cast<std::uint8_t>(c)) % 65521U;
    b = (b + a) % 65521U;
  }
  put32(out, (b << 16U) | a);
  return out;
}

}  // namespace

std::string encode_png(const RgbImage& image) {
  if (image.width == 0 || image.height == 0 ||
      image.pixels.size() != std::size_t{image.width} * image.height * 3) {
    throw std::invalid_argument("encode_png: the pixel buffer does not match the size");
  }
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string header;
  put32(header, image.width);
  put32(header, image.height);
  header += '\x08';                // bit depth
  header += '\x02';                // colour type: RGB
  header += std::string(3, '\0');  // compression, filter, interlace
  chunk(png, "IHDR", header);

  std::string raw;
  const std::size_t stride = std::size_t{image.width} * 3;
  raw.reserve((stride + 1) * image.height);
  for (std::uint32_t y = 0; y < image.height; ++y) {
    raw += '\0';  // filter: none
    raw.append(reinterpret_cast<const char*>(image.pixels.data()) + y * stride, stride);
  }
  chunk(png, "IDAT", zlib_stored(raw));
  chunk(png, "IEND", "");
  return png;
}

void write_png(const RgbImage& image, const std::filesystem::path& path) {
  const std::string bytes = encode_png(image);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace example
