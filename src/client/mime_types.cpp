#include "mime_types.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace inferencesh::detail {
namespace {

using Table = std::unordered_map<std::string, std::string>;

// Used when /etc/mime.types is missing or does not know an extension. Includes every type the
// official JS SDK maps, so both SDKs label the same files the same way.
const Table& builtin_table() {
  static const Table table = {
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"jpe", "image/jpeg"},
      {"jfif", "image/jpeg"},
      {"png", "image/png"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"heic", "image/heif"},
      {"heif", "image/heif"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"bmp", "image/bmp"},
      {"svg", "image/svg+xml"},
      {"ico", "image/vnd.microsoft.icon"},
      {"mp4", "video/mp4"},
      {"mov", "video/quicktime"},
      {"webm", "video/webm"},
      {"mkv", "video/x-matroska"},
      {"avi", "video/x-msvideo"},
      {"mp3", "audio/mpeg"},
      {"wav", "audio/wav"},
      {"ogg", "audio/ogg"},
      {"flac", "audio/flac"},
      {"aac", "audio/aac"},
      {"m4a", "audio/mp4"},
      {"opus", "audio/opus"},
      {"pdf", "application/pdf"},
      {"json", "application/json"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"txt", "text/plain"},
      {"md", "text/markdown"},
      {"csv", "text/csv"},
      {"html", "text/html"},
      {"htm", "text/html"},
      {"css", "text/css"},
      {"js", "text/javascript"},
      {"xml", "application/xml"},
      {"yaml", "application/yaml"},
      {"yml", "application/yaml"},
      {"glb", "model/gltf-binary"},
      {"gltf", "model/gltf+json"},
      {"obj", "model/obj"},
      {"safetensors", "application/octet-stream"},
      {"bin", "application/octet-stream"},
  };
  return table;
}

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
    while (words >> extension) table.emplace(extension, type);
  }
  return table;
}

const Table& system_table() {
  static const Table table = load_system_table();
  return table;
}

}  // namespace

std::string content_type_for(std::string_view file_name) {
  const auto slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  const auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == file_name.size()) return {};
  std::string extension(file_name.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (const auto& system = system_table(); !system.empty()) {
    if (const auto it = system.find(extension); it != system.end()) return it->second;
  }
  if (const auto it = builtin_table().find(extension); it != builtin_table().end()) {
    return it->second;
  }
  return {};
}

}  // namespace inferencesh::detail
