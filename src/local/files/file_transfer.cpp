#include "files/file_transfer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace infsh::local {

namespace {

std::string bytes_text(std::uint64_t n) {
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

class UploadReceiver final : public BodyReader,
                             public std::enable_shared_from_this<UploadReceiver> {
 public:
  UploadReceiver(FileStore& store, SerialExecutor& io, const Logger& log, FileRecord file,
                 std::string content_type, UploadSettings settings)
      : store_(store),
        io_(io),
        log_(log),
        file_(std::move(file)),
        content_type_(std::move(content_type)),
        settings_(std::move(settings)) {}

  // ---- event loop ---------------------------------------------------------------------------

  std::optional<Response> data(std::string bytes, std::function<void()> consumed) override {
    received_ += bytes.size();
    if (file_.declared_size && received_ > *file_.declared_size) {
      return api_error(400, "the upload is larger than the size declared for file " + file_.id +
                                ": " + bytes_text(*file_.declared_size) + " declared, " +
                                bytes_text(received_) + " received so far");
    }
    if (received_ > settings_.max_file_bytes) {
      return api_error(
          413, "the upload is larger than the limit of " + bytes_text(settings_.max_file_bytes));
    }
    io_.post([self = shared_from_this(), bytes = std::move(bytes), consumed = std::move(consumed)] {
      self->write(bytes);
      consumed();
    });
    return std::nullopt;
  }

  void end(std::function<void(Response)> respond) override {
    if (file_.declared_size && received_ != *file_.declared_size) {
      abort();
      respond(api_error(400, "the upload does not have the size declared for file " + file_.id +
                                 ": " + bytes_text(*file_.declared_size) + " declared, " +
                                 bytes_text(received_) + " received"));
      return;
    }
    io_.post(
        [self = shared_from_this(), respond = std::move(respond)] { respond(self->complete()); });
  }

  void abort() override {
    io_.post([self = shared_from_this()] { self->discard(); });
  }

 private:
  // ---- I/O thread -------------------------------------------------------------------------

  bool open_part() {
    if (part_) return true;
    try {
      part_.emplace(store_.new_upload(file_.id));
    } catch (const std::system_error& e) {
      failure_ = "cannot create the upload file: " + e.code().message();
    } catch (const std::invalid_argument& e) {  // not a file id: the record never was stored
      failure_ = std::string("cannot create the upload file: ") + e.what();
    }
    return part_.has_value();
  }

  void write(const std::string& bytes) {
    if (!failure_.empty() || !open_part()) return;
    try {
      part_->write(bytes);
    } catch (const std::system_error& e) {
      failure_ = "writing the upload failed: " + e.code().message();
    }
  }

  Response complete() {
    if (failure_.empty()) open_part();  // an empty upload still gets its (empty) file
    if (!failure_.empty()) {
      discard();
      log_.error("upload of " + file_.id + " failed: " + failure_);
      return api_error(500, failure_);
    }
    try {
      FileRecord stored;
      switch (store_.complete_upload(file_.id, *part_, received_, content_type_, stored)) {
        case FileStore::UploadEnd::deleted:
          return api_error(404, "file " + file_.id + " was deleted during the upload");
        case FileStore::UploadEnd::already_uploaded:
          return api_error(409, already_uploaded_message(file_.id));
        case FileStore::UploadEnd::stored:
          break;
      }
      log_.debug("file " + file_.id + " uploaded (" + bytes_text(received_) + ")");
      return api_success(settings_.version, to_file_dto(stored, settings_.base_url));
    } catch (const std::exception& e) {
      log_.error("upload of " + file_.id + " failed: " + e.what());
      return api_error(500, e.what());
    }
  }

  void discard() { part_.reset(); }  // a broken upload leaves nothing behind

  FileStore& store_;
  SerialExecutor& io_;
  const Logger& log_;
  const FileRecord file_;
  const std::string content_type_;
  const UploadSettings settings_;

  std::uint64_t received_ = 0;  // event loop; read by the I/O thread after end()
  std::optional<inferencesh::common::AtomicFile> part_;  // I/O thread
  std::string failure_;                                  // I/O thread
};

class FileSource final : public BodySource, public std::enable_shared_from_this<FileSource> {
 public:
  FileSource(SerialExecutor& io, int fd) : io_(io), fd_(fd) {}
  ~FileSource() override { ::close(fd_); }

  void read(std::size_t max_bytes,
            std::function<void(std::optional<std::string>)> deliver) override {
    io_.post([self = shared_from_this(), max_bytes, deliver = std::move(deliver)] {
      deliver(self->read_piece(max_bytes));
    });
  }

 private:
  std::optional<std::string> read_piece(std::size_t max_bytes) {
    std::string piece(max_bytes, '\0');
    for (;;) {
      const auto n = ::pread(fd_, piece.data(), piece.size(), static_cast<off_t>(offset_));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;  // an error, or the file shrank under us
      piece.resize(static_cast<std::size_t>(n));
      offset_ += static_cast<std::uint64_t>(n);
      return piece;
    }
  }

  SerialExecutor& io_;
  int fd_;
  std::uint64_t offset_ = 0;  // I/O thread
};

}  // namespace

std::string already_uploaded_message(const std::string& id) {
  return "file " + id +
         " already has its content: an upload URL works once, and the file keeps the bytes "
         "of the upload that completed first (create another file for other bytes)";
}

std::shared_ptr<BodyReader> make_upload_receiver(FileStore& store, SerialExecutor& io,
                                                 const Logger& log, FileRecord file,
                                                 std::string content_type,
                                                 UploadSettings settings) {
  return std::make_shared<UploadReceiver>(store, io, log, std::move(file), std::move(content_type),
                                          std::move(settings));
}

std::shared_ptr<BodySource> make_file_source(SerialExecutor& io, int fd) {
  return std::make_shared<FileSource>(io, fd);
}

}  // namespace infsh::local
