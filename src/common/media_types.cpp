#include "common/media_types.hpp"

#include <array>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace inferencesh::common {
namespace {

// Extension → media type. The first extension listed for a type is its usual one.
constexpr std::array<std::pair<std::string_view, std::string_view>, 60> kBuiltin = {{
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"jpe", "image/jpeg"},
    {"jfif", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"heic", "image/heif"},
    {"heif", "image/heif"},
    {"tiff", "image/tiff"},
    {"tif", "image/tiff"},
    {"bmp", "image/bmp"},
    {"svg", "image/svg+xml"},
    {"ico", "image/vnd.microsoft.icon"},
    {"mp4", "video/mp4"},
    {"mov", "video/quicktime"},
    {"webm", "video/webm"},
    {"mkv", "video/x-matroska"},
    {"avi", "video/x-msvideo"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"mp3", "audio/mpeg"},
    {"wav", "audio/x-wav"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"flac", "audio/flac"},
    {"aac", "audio/aac"},
    {"m4a", "audio/mp4"},
    {"opus", "audio/opus"},
    {"txt", "text/plain"},
    {"text", "text/plain"},
    {"md", "text/markdown"},
    {"csv", "text/csv"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"css", "text/css"},
    {"js", "text/javascript"},
    {"xml", "application/xml"},
    {"json", "application/json"},
    {"jsonl", "application/jsonl"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"wasm", "application/wasm"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"glb", "model/gltf-binary"},
    {"gltf", "model/gltf+json"},
    {"obj", "model/obj"},
    {"stl", "model/stl"},
    {"ply", "application/ply"},
    {"bin", "application/octet-stream"},
    {"safetensors", "application/octet-stream"},
    {"gguf", "application/octet-stream"},
    {"onnx", "application/octet-stream"},
    {"pt", "application/octet-stream"},
    {"npy", "application/octet-stream"},
    {"exe", "application/octet-stream"},
}};

// Other names of a type, mapped to the name the built-in table uses.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kAliases = {{
    {"audio/wav", "audio/x-wav"},
    {"audio/wave", "audio/x-wav"},
    {"audio/mp3", "audio/mpeg"},
    {"image/jpg", "image/jpeg"},
    {"image/heic", "image/heif"},
    {"application/x-gzip", "application/gzip"},
    {"text/xml", "application/xml"},
}};

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

using Table = std::unordered_map<std::string, std::string>;

Table load_system_table() {
  Table table;
  std::ifstream file("/etc/mime.types");
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string type;
    std::string extension;
    if (!(words >> type)) continue;
    while (words >> extension) table.emplace(lower(extension), type);
  }
  return table;
}

const Table& system_table() {
  static const Table table = load_system_table();  // read once, thread-safe
  return table;
}

}  // namespace

std::string media_type_for_file_name(std::string_view file_name) {
  const auto slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  const auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == file_name.size()) return {};
  const std::string extension = lower(file_name.substr(dot + 1));
  if (const auto it = system_table().find(extension); it != system_table().end()) {
    return it->second;
  }
  for (const auto& [ext, type] : kBuiltin) {
    if (ext == extension) return std::string(type);
  }
  return {};
}

std::string extension_for_media_type(std::string_view media_type) {
  std::string type = lower(media_type.substr(0, media_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (const auto& [alias, name] : kAliases) {
    if (alias == type) type = std::string(name);
  }
  for (const auto& [ext, name] : kBuiltin) {
    if (name == type) return "." + std::string(ext);
  }
  return {};
}

}  // namespace inferencesh::common
