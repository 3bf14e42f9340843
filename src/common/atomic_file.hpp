#pragma once

// Files that appear whole or not at all: bytes go to a temporary file on the target's
// filesystem, which is renamed onto the target once complete and removed on any failure. Every
// download, cache entry and stored upload of the SDK is written this way, so a reader (or a
// process started after a crash) never takes a half-written file for a finished one.

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace inferencesh::common {

/// The name a temporary file for `target` gets in `directory` (the target's own directory when
/// empty): "<target file name>.<12 random characters [0-9a-z]>.tmp".
std::filesystem::path temporary_path_for(const std::filesystem::path& target,
                                         const std::filesystem::path& directory = {});

/// True for a name ending in ".tmp", as temporary_path_for() gives (and earlier versions of the
/// SDK gave: a leftover of theirs is skipped too). Readers of a directory skip these.
bool is_temporary_path(const std::filesystem::path& path);

/// What commit() makes sure of before the file counts as complete.
enum class Durability {
  /// The rename alone: other processes see the whole file or none, but after a power loss the
  /// file may be missing or empty. For files the caller hands over at once (downloads).
  rename,
  /// fsync of the file before the rename and of the directory after it: once commit() returns
  /// the content survives a power loss. For files whose presence is trusted later without
  /// checking (a cache entry reused as it is, an upload a database row says is complete).
  sync,
};

/// A temporary file that becomes `target` on commit(). Not committed, it is removed (when
/// destroyed, or at once by discard()). Move-only; one thread at a time.
///
///     AtomicFile file(destination, Durability::sync);
///     file.write(bytes);
///     file.commit();  // destination now holds exactly `bytes`
class AtomicFile {
 public:
  /// Creates the temporary file for `target` (exclusively, mode 0644 before the umask) in
  /// `staging_directory`, or beside the target when that is empty; a staging directory must be
  /// on the target's filesystem. Throws std::system_error naming the path on failure.
  explicit AtomicFile(std::filesystem::path target, Durability durability = Durability::rename,
                      const std::filesystem::path& staging_directory = {});
  ~AtomicFile();
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends `bytes`. Throws std::system_error naming the temporary file (which stays until
  /// discarded or destroyed).
  void write(std::string_view bytes);

  /// With Durability::sync, flushes the bytes written so far to disk now rather than in
  /// commit() (which then only renames): to keep a slow flush out of a section holding a lock.
  /// Throws std::system_error naming the temporary file.
  void sync_to_disk();

  /// Makes the bytes written the target's content (replacing a file there). On failure the
  /// temporary file is removed and std::system_error, naming the target, is thrown.
  void commit();

  /// Removes the temporary file; nothing once committed or discarded.
  void discard() noexcept;

  const std::filesystem::path& target() const noexcept { return target_; }
  const std::filesystem::path& temporary_path() const noexcept { return temporary_; }
  std::uint64_t bytes_written() const noexcept { return written_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  Durability durability_ = Durability::rename;
  int fd_ = -1;  // open until commit() or discard()
  bool pending_ = false;
  bool synced_ = false;  // no bytes written since the last fsync
  std::uint64_t written_ = 0;
};

/// Writes `bytes` to `target` through an AtomicFile. Throws std::system_error.
void write_file_atomically(const std::filesystem::path& target, std::string_view bytes,
                           Durability durability = Durability::rename);

}  // namespace inferencesh::common
