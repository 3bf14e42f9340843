#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <string>
#include <system_error>
#include <utility>

namespace inferencesh::common {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kRandomCharacters = 12;
constexpr std::string_view kSuffix = ".tmp";

std::system_error errno_error(const std::string& what) {
  return {std::error_code(errno, std::generic_category()), what};
}

std::string random_characters() {
  static constexpr std::string_view kAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string text;
  for (std::size_t i = 0; i < kRandomCharacters; ++i) text.push_back(kAlphabet[pick(generator)]);
  return text;
}

void close_quietly(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Makes a rename or a new entry in `directory` durable.
void sync_directory(const fs::path& directory) {
  const fs::path path = directory.empty() ? fs::path(".") : directory;
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw errno_error("cannot open the directory " + path.string());
  const int result = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (result != 0) throw errno_error("cannot flush the directory " + path.string());
}

}  // namespace

fs::path temporary_path_for(const fs::path& target, const fs::path& directory) {
  const fs::path& dir = directory.empty() ? target.parent_path() : directory;
  return dir / (target.filename().string() + "." + random_characters() + std::string(kSuffix));
}

bool is_temporary_path(const fs::path& path) { return path.extension() == kSuffix; }

AtomicFile::AtomicFile(fs::path target, Durability durability, const fs::path& staging_directory)
    : target_(std::move(target)), durability_(durability) {
  // A name already taken (a leftover, or another writer's) is never opened: O_EXCL, a new name.
  for (int tries = 0; fd_ < 0; ++tries) {
    temporary_ = temporary_path_for(target_, staging_directory);
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && (errno != EEXIST || tries == 8)) {
      throw errno_error("cannot create " + temporary_.string());
    }
  }
  pending_ = true;
}

AtomicFile::~AtomicFile() { discard(); }

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_(std::move(other.target_)),
      temporary_(std::move(other.temporary_)),
      durability_(other.durability_),
      fd_(std::exchange(other.fd_, -1)),
      pending_(std::exchange(other.pending_, false)),
      synced_(other.synced_),
      written_(other.written_) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    target_ = std::move(other.target_);
    temporary_ = std::move(other.temporary_);
    durability_ = other.durability_;
    fd_ = std::exchange(other.fd_, -1);
    pending_ = std::exchange(other.pending_, false);
    synced_ = other.synced_;
    written_ = other.written_;
  }
  return *this;
}

void AtomicFile::write(std::string_view bytes) {
  if (fd_ < 0) {
    throw std::system_error(std::make_error_code(std::errc::bad_file_descriptor),
                            "writing " + temporary_.string() + " after it was closed");
  }
  while (!bytes.empty()) {
    const auto n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("cannot write " + temporary_.string());
    bytes.remove_prefix(static_cast<std::size_t>(n));
    written_ += static_cast<std::uint64_t>(n);
    synced_ = false;
  }
}

void AtomicFile::sync_to_disk() {
  if (durability_ != Durability::sync || synced_ || fd_ < 0) return;
  if (::fsync(fd_) != 0) throw errno_error("cannot flush " + temporary_.string() + " to disk");
  synced_ = true;
}

void AtomicFile::commit() {
  if (!pending_) {
    throw std::system_error(std::make_error_code(std::errc::bad_file_descriptor),
                            "cannot move " + temporary_.string() + " into place twice");
  }
  try {
    sync_to_disk();
    // close() reports write-back errors some filesystems (NFS) only detect then.
    const int result = ::close(fd_);
    fd_ = -1;
    if (result != 0) throw errno_error("cannot write " + temporary_.string());
    std::error_code error;
    fs::rename(temporary_, target_, error);
    if (error)
      throw std::system_error(error, "cannot move the new " + target_.string() + " into place");
    pending_ = false;
    if (durability_ == Durability::sync) sync_directory(target_.parent_path());
  } catch (...) {
    discard();
    throw;
  }
}

void AtomicFile::discard() noexcept {
  close_quietly(fd_);
  if (!pending_) return;
  pending_ = false;
  std::error_code ignored;
  fs::remove(temporary_, ignored);
}

void write_file_atomically(const fs::path& target, std::string_view bytes, Durability durability) {
  AtomicFile file(target, durability);
  file.write(bytes);
  file.commit();
}

}  // namespace inferencesh::common
