#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/cancellation.hpp"

namespace inferencesh {

namespace detail {
class ClientCore;
}

/// Reports transfer progress: bytes done so far and the total (0 when unknown).
using ProgressCallback = std::function<void(std::uint64_t done, std::uint64_t total)>;

/// Options of files.upload(). All optional.
struct UploadFileOptions {
  std::string filename;          ///< default: the path's file name; none for bytes and data URIs
  std::string content_type;      ///< default: the data URI's type, else from the file extension
  std::string path;              ///< storage path hint for the server
  bool is_public = false;        ///< ask for a publicly readable file (Python's `public=True`)
  ProgressCallback on_progress;  ///< bytes of the content sent so far
  CancellationToken cancel;
};

/// A file stored by the API. `uri` is what task inputs take; `raw` keeps every field sent.
struct FileRef {
  std::string id;
  std::string uri;
  std::string filename;
  std::string content_type;
  std::uint64_t size = 0;
  nlohmann::json raw = nlohmann::json::object();

  static FileRef from_json(const nlohmann::json& object);
};

/// Options of files.download().
struct DownloadOptions {
  ProgressCallback on_progress;  ///< bytes written so far and the announced length
  CancellationToken cancel;
  bool overwrite = true;  ///< replace an existing file; otherwise an existing file is an error
};

/// File metadata attached to a file value in task input (see file_path / file_bytes).
struct FileMetadata {
  std::string filename;
  std::string content_type;
};

/// A local file, for task input: uploaded when the task is run and replaced by its uri.
///
///     client.tasks.run({{"app", "infsh/upscale"}, {"input", {{"image",
///     inf::file_path("cat.png")}}}});
nlohmann::json file_path(const std::filesystem::path& path, FileMetadata metadata = {});

/// Bytes in memory, for task input: uploaded when the task is run and replaced by its uri.
nlohmann::json file_bytes(std::string bytes, FileMetadata metadata = {});

/// True for a value made by file_path() or file_bytes().
bool is_file_value(const nlohmann::json& value) noexcept;

/// The Files API: upload and download files. Reached as `client.files`.
class Files {
 public:
  /// Uploads a local file (streamed from disk with constant memory), a `data:` URI or base64
  /// text, whichever `source` is (a data URI is recognised by its prefix, a path by existing).
  /// Everything is validated and decoded before any request.
  ///
  ///     inf::FileRef f = client.files.upload("/path/to/image.png");
  FileRef upload(const std::string& source, const UploadFileOptions& options = {}) const;
  FileRef upload(const char* source, const UploadFileOptions& options = {}) const {
    return upload(std::string(source), options);
  }
  /// Uploads a local file.
  FileRef upload(const std::filesystem::path& path, const UploadFileOptions& options = {}) const;
  /// Uploads bytes from memory.
  FileRef upload(const std::vector<std::uint8_t>& bytes,
                 const UploadFileOptions& options = {}) const;
  /// Uploads bytes from memory held in any contiguous char buffer.
  FileRef upload_bytes(std::string_view bytes, const UploadFileOptions& options = {}) const;

  /// Downloads a file to `destination`: a directory (the file keeps a safe version of its own
  /// name) or a file path. Streams to disk; the file appears only when complete. The API key
  /// is sent only to the API's own host. Returns the path written.
  std::filesystem::path download(const std::string& uri, const std::filesystem::path& destination,
                                 const DownloadOptions& options = {}) const;
  std::filesystem::path download(const FileRef& file, const std::filesystem::path& destination,
                                 const DownloadOptions& options = {}) const;

  /// A stored file's metadata.
  FileRef get(const std::string& file_id) const;
  /// Deletes a stored file.
  void remove(const std::string& file_id) const;

 private:
  friend class Client;
  explicit Files(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace inferencesh
