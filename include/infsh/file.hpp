#pragma once

// infsh::File: a file an app takes as input or returns as output, as the platform writes it:
// {"uri", "path", "content_type", "size", "filename"} with only the keys that are set.
//
//   auto image = infsh::File::from_path("/tmp/result.png");   // content_type, size, filename
//   auto photo = infsh::File::from_uri("https://example.com/cat.jpg");  // downloaded, cached
//   if (photo.exists()) std::cout << photo.path << " " << *photo.size << "\n";

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace infsh {

/// Limits and places for resolving a File from a URL or data URI.
struct FileResolveOptions {
  /// Where downloads and decoded data URIs go; empty: File::cache_dir().
  std::filesystem::path cache_dir;
  /// Time allowed to connect to the server.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Time allowed for one whole download attempt.
  std::chrono::milliseconds timeout{120'000};
  /// Largest file accepted (downloaded or decoded), in bytes.
  std::uint64_t max_bytes = std::uint64_t{2} << 30;
  /// Download attempts before giving up. Retried: connection failures, timeouts and the
  /// statuses the client retries (408, 429, 500, 502, 503, 504); any other answer is final.
  int attempts = 2;
  /// Pause between attempts.
  std::chrono::milliseconds retry_delay{1'000};
};

/// A file: where it came from (`uri`), where it is on this machine (`path`) and what it is.
/// An aggregate, so `infsh::File{.path = "/tmp/out.png"}` works; the library fills in the
/// metadata of output files when it writes them.
struct File {
  std::string uri;                    ///< where the file came from: URL, data URI or path
  std::string path;                   ///< absolute local path once resolved; empty before
  std::string content_type;           ///< MIME type, e.g. "image/png"; empty when unknown
  std::optional<std::uint64_t> size;  ///< size in bytes
  std::string filename;               ///< base name, e.g. "result.png"

  /// A File for a local path (made absolute), with content_type, size and filename filled in
  /// when the file exists.
  static File from_path(const std::filesystem::path& path);

  /// A File for a URI or a path, resolved to a local file at once:
  /// - `http://`, `https://`: downloaded into the cache (reused when already there);
  /// - `data:`: decoded into the cache;
  /// - `file://` URLs and plain paths: taken as local paths (they need not exist);
  /// - any other scheme: FileError (it is not a path).
  /// Throws FileError when a download fails or exceeds options.max_bytes.
  static File from_uri(const std::string& uri, const FileResolveOptions& options = {});

  /// The cache root: $FILE_CACHE_DIR, else ~/.cache/inferencesh/files. Created when missing.
  static std::filesystem::path cache_dir();

  /// True when neither uri nor path is set (the JSON was null, "" or {}).
  bool empty() const noexcept { return uri.empty() && path.empty(); }

  /// True when path is set and names an existing file.
  bool exists() const;

  /// Makes the file local: when path is empty and uri is set, resolves uri as from_uri()
  /// does; then fills in metadata that is missing. A File with a path is left as it is.
  void resolve(const FileResolveOptions& options = {});

  /// Re-reads content_type, size and filename from the file at path, replacing the values
  /// held (useful after the file changed). Does nothing when the file does not exist.
  void refresh_metadata();

  /// Fills in content_type, size and filename from the file at path where they are missing.
  void fill_missing_metadata();

  /// The platform's JSON: an object with the keys that are set, in the order uri, path,
  /// content_type, size, filename.
  nlohmann::ordered_json to_json() const;

  /// Reads the platform's JSON without resolving anything: a string is a uri; an object gives
  /// the fields; null, "" and {} give an empty File. Throws FileError for other shapes.
  static File from_json(const nlohmann::json& json);

  friend bool operator==(const File& a, const File& b) {
    return a.uri == b.uri && a.path == b.path && a.content_type == b.content_type &&
           a.size == b.size && a.filename == b.filename;
  }
  friend bool operator!=(const File& a, const File& b) { return !(a == b); }
};

/// The MIME type for a file name's extension ("x.png" → "image/png"); empty when unknown.
std::string guess_content_type(const std::string& filename);

/// The usual extension for a MIME type ("image/jpeg" → ".jpg"); empty when unknown.
std::string guess_extension(const std::string& content_type);

}  // namespace infsh
