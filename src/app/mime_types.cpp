#include "mime_types.hpp"

#include <array>
#include <fstream>
#include <utility>

#include "infsh/file.hpp"

namespace infsh {
namespace {

// Extension → content type. The first extension listed for a type is its usual one.
constexpr std::array<std::pair<std::string_view, std::string_view>, 52> kTypes = {{
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".jpe", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".bmp", "image/bmp"},
    {".tiff", "image/tiff"},
    {".tif", "image/tiff"},
    {".svg", "image/svg+xml"},
    {".ico", "image/vnd.microsoft.icon"},
    {".avif", "image/avif"},
    {".heic", "image/heic"},
    {".mp4", "video/mp4"},
    {".webm", "video/webm"},
    {".mov", "video/quicktime"},
    {".avi", "video/x-msvideo"},
    {".mkv", "video/x-matroska"},
    {".mpeg", "video/mpeg"},
    {".mpg", "video/mpeg"},
    {".mp3", "audio/mpeg"},
    {".wav", "audio/x-wav"},
    {".ogg", "audio/ogg"},
    {".oga", "audio/ogg"},
    {".flac", "audio/flac"},
    {".m4a", "audio/mp4"},
    {".aac", "audio/aac"},
    {".opus", "audio/opus"},
    {".txt", "text/plain"},
    {".text", "text/plain"},
    {".html", "text/html"},
    {".htm", "text/html"},
    {".css", "text/css"},
    {".csv", "text/csv"},
    {".md", "text/markdown"},
    {".xml", "text/xml"},
    {".js", "text/javascript"},
    {".json", "application/json"},
    {".jsonl", "application/jsonl"},
    {".pdf", "application/pdf"},
    {".zip", "application/zip"},
    {".gz", "application/gzip"},
    {".tar", "application/x-tar"},
    {".bin", "application/octet-stream"},
    {".wasm", "application/wasm"},
    {".yaml", "application/yaml"},
    {".yml", "application/yaml"},
    {".glb", "model/gltf-binary"},
    {".gltf", "model/gltf+json"},
    {".obj", "model/obj"},
    {".stl", "model/stl"},
    {".ply", "application/ply"},
}};

// Other names of a type, mapped to the name the table uses.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kAliases = {{
    {"audio/wav", "audio/x-wav"},
    {"audio/wave", "audio/x-wav"},
    {"audio/mp3", "audio/mpeg"},
    {"image/jpg", "image/jpeg"},
    {"application/x-gzip", "application/gzip"},
}};

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

}  // namespace

std::string guess_content_type(const std::string& filename) {
  const auto dot = filename.rfind('.');
  const auto slash = filename.find_last_of("/\\");
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  const std::string extension = lower(std::string_view(filename).substr(dot));
  for (const auto& [ext, type] : kTypes) {
    if (ext == extension) return std::string(type);
  }
  return {};
}

std::string guess_extension(const std::string& content_type) {
  // Parameters (";charset=utf-8") and case do not matter.
  std::string type = lower(std::string_view(content_type).substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (const auto& [alias, name] : kAliases) {
    if (alias == type) type = std::string(name);
  }
  for (const auto& [ext, name] : kTypes) {
    if (name == type) return std::string(ext);
  }
  return {};
}

namespace detail {

std::string sniff_content_type(std::string_view b) {
  const auto starts = [&b](std::string_view prefix, std::size_t at = 0) {
    return b.size() >= at + prefix.size() && b.substr(at, prefix.size()) == prefix;
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
  if (starts("BM") && b.size() >= 14) return "image/bmp";
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
