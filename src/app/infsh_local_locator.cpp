#include "infsh_local_locator.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace infsh::detail {
namespace {

bool executable(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string self_executable_path(const std::string& fallback) {
  std::error_code error;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? fallback : path.string();
}

std::optional<std::string> find_infsh_local(const std::string& program) {
  if (const char* env = std::getenv("INFSH_LOCAL"); env != nullptr && *env != '\0') {
    if (!executable(env)) {
      throw std::runtime_error(std::string("INFSH_LOCAL is set to '") + env +
                               "', which is not an executable file");
    }
    return std::string(env);
  }
  const auto beside = std::filesystem::path(program).parent_path() / "infsh-local";
  if (executable(beside)) return beside.string();
#ifdef INFSH_BUILD_TREE_LOCAL
  if (executable(INFSH_BUILD_TREE_LOCAL)) return std::string(INFSH_BUILD_TREE_LOCAL);
#endif
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string dirs = path;
    std::size_t start = 0;
    while (start <= dirs.size()) {
      auto end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      const std::string dir = dirs.substr(start, end - start);
      const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / "infsh-local";
      if (executable(candidate)) return candidate.string();
      start = end + 1;
    }
  }
  return std::nullopt;
}

}  // namespace infsh::detail
