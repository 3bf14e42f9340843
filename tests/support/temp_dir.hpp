#pragma once

// Scratch files for tests: a temporary directory that cleans up after itself.

#include <filesystem>
#include <string>

namespace inferencesh::testing {

/// A fresh directory under the system's temporary directory, removed with what it holds.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  /// Writes `bytes` to the file `name` inside (creating its directories); returns its path.
  std::filesystem::path write(const std::string& name, const std::string& bytes) const;

 private:
  std::filesystem::path path_;
};

/// The whole content of a file; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace inferencesh::testing
