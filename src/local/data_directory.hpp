#pragma once

// Where the runtime keeps its durable state (--data-dir):
//
//   <dir>/infsh-local.db (+ -wal, -shm)   tasks, files, sessions (SQLite)
//   <dir>/lock                            the pid of the runtime using the directory
//                                         (held with flock too, as older runtimes did)
//   <dir>/files/<file id>                 the bytes of uploaded and output files
//   <dir>/uploads/                        uploads in progress; emptied at start
//   <dir>/work/<task id>/                 a task's scratch space (decoded inputs, outputs the
//                                         app writes); removed when the task ends, emptied at
//                                         start
//
// The option's value chooses the kind: a path (created when missing, kept), empty (a fresh
// temporary directory removed when the runtime stops), or ":memory:" (the database in memory,
// the bytes in a temporary directory: nothing survives the runtime).
//
// The lock is a flock on the directory itself: unlike a lock file, it cannot be deleted away
// while a runtime holds it (a second runtime would then take over the database under the first).

#include <filesystem>
#include <string>

namespace infsh::local {

class DataDirectory {
 public:
  /// Creates or opens the directory and locks it. Throws std::runtime_error naming the path
  /// when it cannot be created, or when another runtime holds it.
  explicit DataDirectory(const std::string& option);
  /// Releases (see release()).
  ~DataDirectory();
  DataDirectory(const DataDirectory&) = delete;
  DataDirectory& operator=(const DataDirectory&) = delete;

  /// The SQLite path, or ":memory:".
  std::string database_path() const;
  const std::filesystem::path& root() const noexcept { return root_; }
  std::filesystem::path files_dir() const { return root_ / "files"; }
  std::filesystem::path uploads_dir() const { return root_ / "uploads"; }
  std::filesystem::path work_dir() const { return root_ / "work"; }
  /// False for a temporary directory or ":memory:": nothing outlives the runtime.
  bool persistent() const noexcept { return persistent_; }

  /// Unlocks the directory, and removes it when it is temporary. Idempotent.
  void release() noexcept;

 private:
  std::filesystem::path root_;
  bool persistent_ = true;
  bool in_memory_ = false;
  int dir_fd_ = -1;   // holds the lock on the directory
  int lock_fd_ = -1;  // the lock file
};

}  // namespace infsh::local
