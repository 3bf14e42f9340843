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

// Set during static initialisation of the program, read from main() on. A literal, so
// setting it copies nothing and cannot throw.
const char* build_tree_infsh_local = nullptr;

}  // namespace

void set_build_tree_infsh_local(const char* path) noexcept { build_tree_infsh_local = path; }

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
  if (const char* built = build_tree_infsh_local;
      built != nullptr && *built != '\0' && executable(built)) {
    return built;
  }
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
