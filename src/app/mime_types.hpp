#pragma once

// Content types: by file extension (infsh::guess_content_type in file.hpp) and, when the
// extension says nothing, by the first bytes of the file.

#include <filesystem>
#include <string>
#include <string_view>

namespace infsh::detail {

/// The content type told by a file's first bytes (PNG, JPEG, GIF, WebP, WAV, PDF, MP3, MP4,
/// Ogg, FLAC, Matroska/WebM, ZIP, gzip, BMP, glTF); empty when none matches.
std::string sniff_content_type(std::string_view first_bytes);

/// The content type of the file at `path`: by extension, else by its first bytes; empty when
/// neither tells.
std::string detect_content_type(const std::filesystem::path& path);

}  // namespace infsh::detail
