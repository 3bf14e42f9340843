#pragma once

#include <string>
#include <string_view>

namespace inferencesh::common {

/// The media type a file name's extension implies (case-insensitive): from /etc/mime.types when
/// the system has one, else from a built-in table of common types (including every type the
/// official SDKs map); empty when neither knows the extension.
std::string media_type_for_file_name(std::string_view file_name);

/// The usual extension, with its dot, for a media type ("image/jpeg" → ".jpg"); parameters and
/// case are ignored and common aliases (audio/wav, image/jpg) understood. Empty when unknown.
std::string extension_for_media_type(std::string_view media_type);

}  // namespace inferencesh::common
