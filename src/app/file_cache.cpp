#include "file_cache.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <system_error>

#include "client/download.hpp"
#include "common/atomic_file.hpp"
#include "common/data_uri.hpp"
#include "inferencesh/errors.hpp"
#include "infsh/errors.hpp"
#include "infsh/version.hpp"
#include "sha256.hpp"

namespace infsh {
namespace detail {
namespace {

struct UrlParts {
  std::string netloc;
  std::string path;
  std::string query;
};

// Splits "scheme://netloc/path?query#fragment" as Python's urlparse does for http(s).
UrlParts split_url(const std::string& url) {
  UrlParts parts;
  const auto scheme_end = url.find("://");
  std::size_t at = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto netloc_end = url.find_first_of("/?#", at);
  parts.netloc =
      url.substr(at, netloc_end == std::string::npos ? std::string::npos : netloc_end - at);
  if (netloc_end == std::string::npos) return parts;
  at = netloc_end;
  const auto path_end = url.find_first_of("?#", at);
  parts.path = url.substr(at, path_end == std::string::npos ? std::string::npos : path_end - at);
  if (path_end == std::string::npos || url[path_end] == '#') return parts;
  const auto query_end = url.find('#', path_end + 1);
  parts.query = url.substr(
      path_end + 1, query_end == std::string::npos ? std::string::npos : query_end - path_end - 1);
  return parts;
}

std::filesystem::path cache_root(const FileResolveOptions& options) {
  if (options.cache_dir.empty()) return File::cache_dir();
  std::error_code error;
  std::filesystem::create_directories(options.cache_dir, error);
  return options.cache_dir;
}

void make_directories(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    throw FileError("cannot create the cache directory " + dir.string() + ": " + error.message());
}

// One pool of connections for the File downloads of the process: the client library's
// transport with its defaults (TLS verified against the system's CAs, curl's proxy variables).
inferencesh::Transport& download_transport() {
  static const std::shared_ptr<inferencesh::Transport> transport =
      inferencesh::make_curl_transport();
  return *transport;
}

// A transport message starts "GET <url>: "; the FileError names the URL already.
std::string reason_of(const std::string& message, const std::string& shown) {
  const std::string prefix = "GET " + shown + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

void download_to(const std::string& url, const std::filesystem::path& destination,
                 const FileResolveOptions& options) {
  namespace client = inferencesh::detail;
  client::DownloadRequest request;
  request.url = url;
  request.headers.emplace_back("User-Agent", std::string("inferencesh-cpp-infsh/") + kVersion);
  // No api_key: an app never sends one with the files it fetches, whatever the host.
  request.connect_timeout = options.connect_timeout;
  request.attempt_timeout = options.timeout;
  request.max_bytes = options.max_bytes;
  const int attempts = std::max(options.attempts, 1);
  request.retry.max_retries = attempts - 1;
  request.retry.initial_backoff = options.retry_delay;
  request.retry.max_backoff = options.retry_delay;
  request.retry.multiplier = 1.0;
  // Flushed to disk: a cache entry is reused later without being checked.
  request.durability = inferencesh::common::Durability::sync;
  request.hide_queries = true;
  request.target = [&destination](const std::string&, const inferencesh::Headers&) {
    return destination;
  };
  int made = 1;
  request.on_retry = [&made](const std::string&, std::chrono::milliseconds) { ++made; };

  const std::string shown = client::url_without_query(url);
  std::string reason;
  try {
    client::download(download_transport(), request, {});
    return;
  } catch (const inferencesh::ApiError& e) {
    reason = "HTTP status " + std::to_string(e.status());
  } catch (const inferencesh::Error& e) {
    reason = reason_of(e.what(), shown);
  }
  throw FileError("downloading " + shown + " failed" +
                  (made > 1 ? " after " + std::to_string(made) + " attempts" : std::string()) +
                  ": " + reason);
}

}  // namespace

std::filesystem::path url_cache_path(const std::string& url, const std::filesystem::path& root) {
  const UrlParts parts = split_url(url);
  std::string key = parts.netloc + parts.path;
  if (!parts.query.empty()) key += "?" + parts.query;
  std::string name = parts.path.substr(parts.path.rfind('/') + 1);
  if (name.empty() || name == "." || name == "..") name = "download";
  return root / sha256_hex(key).substr(0, 12) / name;
}

std::filesystem::path data_uri_cache_dir(const std::string& uri,
                                         const std::filesystem::path& root) {
  return root / "data_uri" / sha256_hex(uri).substr(0, 16);
}

std::filesystem::path resolve_url(const std::string& url, const FileResolveOptions& options) {
  auto destination = url_cache_path(url, cache_root(options));
  std::error_code error;
  if (std::filesystem::is_regular_file(destination, error)) return destination;
  make_directories(destination.parent_path());
  download_to(url, destination, options);
  return destination;
}

std::filesystem::path resolve_data_uri(const std::string& uri, const FileResolveOptions& options,
                                       std::string& content_type) {
  const auto dir = data_uri_cache_dir(uri, cache_root(options));
  // The media type is read without decoding the payload, so a cache hit costs no decoding.
  const auto comma = uri.find(',');
  const std::string header = uri.substr(5, comma == std::string::npos ? 0 : comma - 5);
  std::string media = header.substr(0, header.find(';'));
  content_type = media.find('/') != std::string::npos ? media : "text/plain";

  std::error_code error;
  if (std::filesystem::is_directory(dir, error)) {
    std::filesystem::path first;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      if (!entry.is_regular_file(error) || inferencesh::common::is_temporary_path(entry.path()))
        continue;
      if (first.empty() || entry.path() < first) first = entry.path();
    }
    if (!first.empty()) return first;
  }
  std::string reason;
  auto decoded = inferencesh::common::parse_data_uri(uri, &reason, options.max_bytes);
  if (!decoded) throw FileError("malformed data URI: " + reason);
  // RFC 2397: a data URI without a media type is text/plain.
  if (decoded->media_type.empty()) decoded->media_type = "text/plain";
  content_type = decoded->media_type;
  std::string extension = guess_extension(decoded->media_type);
  if (extension == ".jpe") extension = ".jpg";
  make_directories(dir);
  auto destination = dir / ("file" + extension);
  try {
    // Flushed to disk: a cache entry is reused later without being checked.
    inferencesh::common::write_file_atomically(destination, decoded->bytes,
                                               inferencesh::common::Durability::sync);
  } catch (const std::system_error& e) {
    throw FileError(std::string("cannot cache the data URI: ") + e.what());
  }
  return destination;
}

}  // namespace detail

std::filesystem::path File::cache_dir() {
  std::filesystem::path root;
  if (const char* env = std::getenv("FILE_CACHE_DIR"); env != nullptr && *env != '\0') {
    root = env;
  } else {
    const char* home = std::getenv("HOME");
    // getpwuid_r, not getpwuid: an app may resolve files on several threads at once.
    std::array<char, 4096> buffer{};
    passwd entry{};
    passwd* found = nullptr;
    if (home == nullptr || *home == '\0') {
      const bool known =
          ::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
          found != nullptr;
      home = known ? entry.pw_dir : "/tmp";
    }
    root = std::filesystem::path(home) / ".cache" / "inferencesh" / "files";
  }
  detail::make_directories(root);
  return root;
}

}  // namespace infsh
