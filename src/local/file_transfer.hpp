#pragma once

// Moving file bytes between sockets and disk without holding them in memory: the reader behind
// an upload URL (PUT, streamed to a part file, checked against the declared size, renamed into
// place when complete) and the source behind a file's uri (read from disk as the socket drains).
// Disk work runs on the SerialExecutor, never on the event loop.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api_envelope.hpp"
#include "file_store.hpp"
#include "http_message.hpp"
#include "logger.hpp"
#include "serial_executor.hpp"

namespace infsh::local {

struct UploadSettings {
  std::uint64_t max_file_bytes = 0;  ///< larger uploads get 413
  std::string base_url;              ///< for the FileDTO in the answer
  ApiVersion version = ApiVersion::compat;
};

/// The 409 detail for a PUT to the upload URL of a file that has its content.
std::string already_uploaded_message(const std::string& id);

/// The BodyReader of `PUT <upload_url>` for `file`. The first upload to complete becomes the
/// file's content; one completing later gets 409 and changes nothing, while one that breaks
/// off leaves the URL usable for a retry. `content_type` is the PUT's Content-Type
/// (kept only when the file was created without one).
std::shared_ptr<BodyReader> make_upload_receiver(FileStore& store, SerialExecutor& io,
                                                 const Logger& log, FileRecord file,
                                                 std::string content_type, UploadSettings settings);

/// The BodySource of a stored file's bytes, open as `fd` (taken over and closed at the end).
std::shared_ptr<BodySource> make_file_source(SerialExecutor& io, int fd);

}  // namespace infsh::local
