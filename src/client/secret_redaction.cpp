#include "secret_redaction.hpp"

namespace inferencesh::detail {

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  constexpr std::string_view kMask = "***";
  std::size_t pos = 0;
  while ((pos = text.find(secret, pos)) != std::string::npos) {
    text.replace(pos, secret.size(), kMask);
    pos += kMask.size();
  }
  return text;
}

}  // namespace inferencesh::detail
