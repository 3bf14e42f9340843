#pragma once

#include <string>
#include <string_view>

namespace inferencesh::detail {

/// The media type for a file name's extension (case-insensitive): from /etc/mime.types when the
/// system has it, else from a built-in table of common types; empty when neither knows it.
std::string content_type_for(std::string_view file_name);

}  // namespace inferencesh::detail
