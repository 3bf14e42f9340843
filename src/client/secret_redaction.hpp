#pragma once

#include <string>
#include <string_view>

namespace inferencesh::detail {

/// Replaces every occurrence of `secret` in `text` with "***". Used on everything that leaves
/// the client as text (exception messages, bodies kept in errors, log lines), so an API key a
/// server echoes back never reaches a log. An empty secret leaves the text unchanged.
std::string redact(std::string text, std::string_view secret);

}  // namespace inferencesh::detail
