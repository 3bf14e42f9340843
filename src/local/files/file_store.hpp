#pragma once

// Stored files: their records in the database's `files` table and their bytes under the data
// directory's files/ (see data_directory.hpp). Ids are generated here ("file_" + 20 characters
// of [0-9a-z]) and checked before any path is built from one, so nothing a client sends ever
// names a place on disk. Each file has two secrets: the token of its upload URL and the token of
// its uri, which is how those URLs work without the API key, like signed URLs. Thread-safe.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "store/sqlite_database.hpp"

namespace infsh::local {

struct FileRecord {
  std::int64_t seq = 0;  ///< creation order, for listing
  std::string id;
  std::string read_token;
  std::string upload_token;
  bool uploaded = false;
  std::string filename;
  std::string content_type;  ///< as declared or received; empty until known
  std::optional<std::uint64_t> declared_size;
  std::uint64_t size = 0;  ///< bytes stored (0 until uploaded)
  std::string path_hint;   ///< the client's `path`: metadata only, never a filesystem path
  std::string category = "uploads";
  std::string visibility = "private";
  std::string created_at;
  std::string updated_at;
};

/// What POST /files asks for, one file.
struct NewFile {
  std::string filename;
  std::string content_type;
  std::optional<std::uint64_t> size;
  std::string path_hint;
  std::string category = "uploads";
  bool is_public = false;
};

/// One page of POST /files/list.
struct FilePage {
  std::vector<FileRecord> items;
  std::string next_cursor;  ///< empty on the last page
  std::uint64_t total = 0;
};

class FileStore {
 public:
  FileStore(Database& db, std::filesystem::path files_dir, std::filesystem::path uploads_dir);

  /// True for ids this store generates; anything else is never looked up or turned into a path.
  static bool valid_id(std::string_view id) noexcept;

  /// A new file waiting for its bytes.
  FileRecord create(const NewFile& file);
  std::optional<FileRecord> find(std::string_view id) const;
  FilePage list(std::string_view cursor, std::size_t limit) const;
  /// Deletes the record and its bytes; false when there is no such file.
  bool remove(std::string_view id);

  /// Where a file's bytes are (whether or not they exist yet). `id` must be valid.
  std::filesystem::path bytes_path(std::string_view id) const;
  /// A fresh file for an upload in progress: in the uploads directory (on the bytes'
  /// filesystem, emptied at start-up), becoming the file's bytes on complete_upload().
  inferencesh::common::AtomicFile new_upload(std::string_view id) const;

  /// What complete_upload() did.
  enum class UploadEnd {
    stored,           ///< the part is the file's content now
    deleted,          ///< the file was deleted meanwhile
    already_uploaded  ///< another upload completed first; the content stays as it was
  };

  /// Makes a completely received upload the file's content: commits `part` (flushed to disk)
  /// and records the size and, when none was declared, `received_content_type`. An upload URL
  /// works once: unless the file is still waiting for its content, `part` is discarded and the
  /// file is left as it is. `file` receives the record as it is afterwards (when it exists).
  UploadEnd complete_upload(std::string_view id, inferencesh::common::AtomicFile& part,
                            std::uint64_t size, const std::string& received_content_type,
                            FileRecord& file);

  /// Stores the local file at `source` as a new, uploaded file (category "outputs"): moved when
  /// `move` is set (it must be on the data directory's filesystem), copied otherwise.
  FileRecord adopt(const std::filesystem::path& source, const std::string& filename,
                   const std::string& content_type, bool move);

  /// The stored file whose bytes are at `path`, if it is one of ours.
  std::optional<FileRecord> owner_of(const std::filesystem::path& path) const;

  /// The file a uri of ours names ("<any origin>/files/<id>/content?token=<read token>"),
  /// when id and token match a stored file. The origin is not compared: the token is the
  /// proof, and the runtime's address may have changed since the uri was handed out.
  std::optional<FileRecord> resolve_uri(std::string_view uri) const;

  const std::filesystem::path& files_dir() const noexcept { return files_dir_; }

 private:
  FileRecord insert(FileRecord record);
  std::optional<FileRecord> find_locked(std::string_view id) const;

  Database& db_;
  std::filesystem::path files_dir_;
  std::filesystem::path uploads_dir_;
};

/// The content type to serve: the stored one, else one guessed from the file name, else
/// application/octet-stream.
std::string effective_content_type(const FileRecord& file);

/// True for a plausible media type ("image/png", "text/plain; charset=utf-8"): printable ASCII
/// without CR or LF, a '/' in the type, at most 255 characters.
bool valid_content_type(std::string_view content_type) noexcept;

/// Constant-time comparison of a presented token with the stored one.
bool token_matches(std::string_view presented, std::string_view expected) noexcept;

/// The uri of a file (base: the runtime's URL) and its upload URL.
std::string file_uri(const std::string& base_url, const FileRecord& file);
std::string upload_url(const std::string& base_url, const FileRecord& file);

/// The FileDTO: id, uri, upload_url, filename, content_type, size, path, created_at, ... plus
/// `uploaded` (whether the bytes have arrived; an extension of this runtime).
nlohmann::json to_file_dto(const FileRecord& file, const std::string& base_url);

}  // namespace infsh::local
