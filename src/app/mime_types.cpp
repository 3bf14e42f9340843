#include "mime_types.hpp"

#include <array>
#include <fstream>
#include <utility>

#include "common/media_types.hpp"

#include "infsh/file.hpp"

namespace infsh {

std::string guess_content_type(const std::string& filename) {
  return inferencesh::common::media_type_for_file_name(filename);
}

std::string guess_extension(const std::string& content_type) {
  return inferencesh::common::extension_for_media_type(content_type);
}

namespace detail {

std::string sniff_content_type(std::string_view first_bytes) {
  const auto starts = [&first_bytes](std::string_view prefix, std::size_t at = 0) {
    return first_bytes.size() >= at + prefix.size() &&
           first_bytes.substr(at, prefix.size()) == prefix;
  };
  if (starts("\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts("\xff\xd8\xff")) return "image/jpeg";
  if (starts("GIF87a") || starts("GIF89a")) return "image/gif";
  if (starts("RIFF") && starts("WEBP", 8)) return "image/webp";
  if (starts("RIFF") && starts("WAVE", 8)) return "audio/x-wav";
  if (starts("%PDF-")) return "application/pdf";
  if (starts("ID3") || starts("\xff\xfb") || starts("\xff\xf3") || starts("\xff\xf2")) {
    return "audio/mpeg";
  }
  if (starts("ftyp", 4)) return starts("M4A ", 8) ? "audio/mp4" : "video/mp4";
  if (starts("OggS")) return "audio/ogg";
  if (starts("fLaC")) return "audio/flac";
  if (starts("\x1a\x45\xdf\xa3")) return "video/webm";
  if (starts("PK\x03\x04")) return "application/zip";
  if (starts("\x1f\x8b")) return "application/gzip";
  if (starts("glTF")) return "model/gltf-binary";
  if (starts("BM") && first_bytes.size() >= 14) return "image/bmp";
  return {};
}

std::string detect_content_type(const std::filesystem::path& path) {
  std::string type = guess_content_type(path.filename().string());
  if (!type.empty()) return type;
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::array<char, 16> head{};
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return sniff_content_type(std::string_view(head.data(), static_cast<std::size_t>(in.gcount())));
}

}  // namespace detail
}  // namespace infsh
