#include "store/data_directory.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace infsh::local {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int error) { return std::generic_category().message(error); }

fs::path make_temporary_directory() {
  std::string pattern = (fs::temp_directory_path() / "infsh-local-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    const int error = errno;
    throw std::runtime_error("cannot create a temporary data directory in " +
                             fs::temp_directory_path().string() + ": " + errno_text(error));
  }
  return pattern;
}

// Leftovers of a runtime that did not stop cleanly: half-written uploads, task scratch space.
void empty_directory(const fs::path& dir) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) fs::remove_all(entry.path(), error);
}

}  // namespace

DataDirectory::DataDirectory(const std::string& option) {
  if (option.empty() || option == ":memory:") {
    root_ = make_temporary_directory();
    persistent_ = false;
    in_memory_ = option == ":memory:";
  } else {
    root_ = fs::absolute(option);
    std::error_code error;
    fs::create_directories(root_, error);
    if (error || !fs::is_directory(root_)) {
      throw std::runtime_error("cannot use " + root_.string() + " as the data directory: " +
                               (error ? error.message() : "not a directory"));
    }
  }

  // Neither the directory nor the lock file is ours until both are locked.
  const auto give_up = [this] {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    if (dir_fd_ >= 0) ::close(dir_fd_);
    lock_fd_ = dir_fd_ = -1;
  };
  const auto cannot_use = [&](const std::string& why) {
    give_up();
    return std::runtime_error("cannot use " + root_.string() + " as the data directory: " + why);
  };
  const auto in_use = [&] {
    std::string pid;
    const int fd = ::open((root_ / "lock").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      std::array<char, 32> text{};
      const auto n = ::pread(fd, text.data(), text.size() - 1, 0);
      if (n > 0) pid = std::string(text.data(), static_cast<std::size_t>(n));
      ::close(fd);
    }
    give_up();
    return std::runtime_error("the data directory " + root_.string() +
                              " is in use by another infsh-local" +
                              (pid.empty() ? std::string() : " (pid " + pid + ")"));
  };
  dir_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) throw cannot_use(errno_text(errno));
  if (::flock(dir_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) throw in_use();
    throw cannot_use("cannot lock it: " + errno_text(errno));
  }
  lock_fd_ = ::open((root_ / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw cannot_use(errno_text(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) throw in_use();  // an older infsh-local
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(lock_fd_, 0) == 0) {
    [[maybe_unused]] const auto written = ::pwrite(lock_fd_, pid.data(), pid.size(), 0);
  }

  for (const auto& dir : {files_dir(), uploads_dir(), work_dir()}) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) {
      release();
      throw std::runtime_error("cannot create " + dir.string() + ": " + error.message());
    }
  }
  empty_directory(uploads_dir());
  empty_directory(work_dir());
}

DataDirectory::~DataDirectory() { release(); }

std::string DataDirectory::database_path() const {
  return in_memory_ ? std::string(":memory:") : (root_ / "infsh-local.db").string();
}

void DataDirectory::release() noexcept {
  if (dir_fd_ < 0) return;
  if (!persistent_) {
    std::error_code error;
    fs::remove_all(root_, error);
  }
  ::close(lock_fd_);
  ::close(dir_fd_);  // releases the lock
  lock_fd_ = dir_fd_ = -1;
}

}  // namespace infsh::local
