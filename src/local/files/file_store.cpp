#include "files/file_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "common/media_types.hpp"
#include "http/auth.hpp"
#include "http/http_message.hpp"
#include "support/id_generator.hpp"
#include "support/time_format.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace fs = std::filesystem;

namespace {

constexpr const char* kColumns =
    "seq, id, read_token, upload_token, uploaded, filename, content_type, declared_size, size, "
    "path_hint, category, visibility, created_at, updated_at";

FileRecord record_from(const Statement& row) {
  FileRecord file;
  file.seq = row.integer(0);
  file.id = row.text(1);
  file.read_token = row.text(2);
  file.upload_token = row.text(3);
  file.uploaded = row.integer(4) != 0;
  file.filename = row.text(5);
  file.content_type = row.text(6);
  if (!row.is_null(7)) file.declared_size = static_cast<std::uint64_t>(row.integer(7));
  file.size = static_cast<std::uint64_t>(row.integer(8));
  file.path_hint = row.text(9);
  file.category = row.text(10);
  file.visibility = row.text(11);
  file.created_at = row.text(12);
  file.updated_at = row.text(13);
  return file;
}

void copy_or_move(const fs::path& source, const fs::path& target, bool move) {
  std::error_code error;
  if (move) {
    fs::rename(source, target, error);
    if (!error) return;
  }
  fs::copy_file(source, target, fs::copy_options::overwrite_existing, error);
  if (error) {
    throw std::runtime_error("cannot store " + source.string() + ": " + error.message());
  }
}

}  // namespace

// ---- free functions -----------------------------------------------------------------------------

std::string effective_content_type(const FileRecord& file) {
  if (!file.content_type.empty()) return file.content_type;
  if (auto guessed = common::media_type_for_file_name(file.filename); !guessed.empty())
    return guessed;
  return "application/octet-stream";
}

bool valid_content_type(std::string_view content_type) noexcept {
  if (content_type.empty() || content_type.size() > 255) return false;
  const auto slash = content_type.find('/');
  if (slash == 0 || slash == std::string_view::npos) return false;
  return std::all_of(content_type.begin(), content_type.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool token_matches(std::string_view presented, std::string_view expected) noexcept {
  return !expected.empty() && constant_time_equal(presented, expected);
}

std::string file_uri(const std::string& base_url, const FileRecord& file) {
  return base_url + "/files/" + file.id + "/content?token=" + file.read_token;
}

std::string upload_url(const std::string& base_url, const FileRecord& file) {
  return base_url + "/_upload/" + file.id + "?token=" + file.upload_token;
}

nlohmann::json to_file_dto(const FileRecord& file, const std::string& base_url) {
  const std::uint64_t size = file.uploaded ? file.size : file.declared_size.value_or(0);
  return {
      {"id", file.id},
      {"short_id", file.id.substr(file.id.size() > 8 ? file.id.size() - 8 : 0)},
      {"created_at", file.created_at},
      {"updated_at", file.updated_at},
      {"deleted_at", nullptr},
      {"user_id", "local"},
      {"team_id", "local"},
      {"visibility", file.visibility},
      {"path", file.path_hint},
      {"remote_path", ""},
      {"upload_url", upload_url(base_url, file)},
      {"uri", file_uri(base_url, file)},
      {"content_type", effective_content_type(file)},
      {"size", size},
      {"filename", file.filename},
      {"category", file.category},
      {"rating", "unrated"},
      {"metadata", nlohmann::json::object()},
      {"uploaded", file.uploaded},
  };
}

// ---- FileStore ----------------------------------------------------------------------------------

FileStore::FileStore(Database& db, fs::path files_dir, fs::path uploads_dir)
    : db_(db), files_dir_(std::move(files_dir)), uploads_dir_(std::move(uploads_dir)) {}

bool FileStore::valid_id(std::string_view id) noexcept {
  constexpr std::string_view prefix = "file_";
  if (id.size() != prefix.size() + 20 || id.substr(0, prefix.size()) != prefix) return false;
  return std::all_of(id.begin() + static_cast<std::ptrdiff_t>(prefix.size()), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); });
}

fs::path FileStore::bytes_path(std::string_view id) const {
  if (!valid_id(id)) throw std::invalid_argument("not a file id");
  return files_dir_ / std::string(id);
}

common::AtomicFile FileStore::new_upload(std::string_view id) const {
  return common::AtomicFile(bytes_path(id), common::Durability::sync, uploads_dir_);
}

FileRecord FileStore::insert(FileRecord record) {
  record.id = new_id("file");
  record.read_token = new_secret();
  record.upload_token = new_secret();
  record.created_at = rfc3339_now();
  record.updated_at = record.created_at;
  auto lock = db_.lock();
  auto& insert = db_.statement(
      "INSERT INTO files (id, read_token, upload_token, uploaded, filename, content_type, "
      "declared_size, size, path_hint, category, visibility, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  insert.bind(1, record.id).bind(2, record.read_token).bind(3, record.upload_token);
  insert.bind(4, std::int64_t{record.uploaded ? 1 : 0}).bind(5, record.filename);
  insert.bind(6, record.content_type);
  if (record.declared_size) {
    insert.bind(7, static_cast<std::int64_t>(*record.declared_size));
  } else {
    insert.bind_null(7);
  }
  insert.bind(8, static_cast<std::int64_t>(record.size)).bind(9, record.path_hint);
  insert.bind(10, record.category).bind(11, record.visibility);
  insert.bind(12, record.created_at).bind(13, record.updated_at).run();
  auto& seq = db_.statement("SELECT last_insert_rowid()");
  seq.step();
  record.seq = seq.integer(0);
  seq.reset();
  return record;
}

FileRecord FileStore::create(const NewFile& file) {
  FileRecord record;
  record.filename = file.filename;
  record.content_type = file.content_type;
  record.declared_size = file.size;
  record.path_hint = file.path_hint;
  record.category = file.category;
  record.visibility = file.is_public ? "public" : "private";
  return insert(std::move(record));
}

std::optional<FileRecord> FileStore::find(std::string_view id) const {
  if (!valid_id(id)) return std::nullopt;
  auto lock = db_.lock();
  return find_locked(id);
}

std::optional<FileRecord> FileStore::find_locked(std::string_view id) const {
  auto& select = db_.statement(std::string("SELECT ") + kColumns + " FROM files WHERE id = ?1");
  select.bind(1, id);
  if (!select.step()) return std::nullopt;
  FileRecord file = record_from(select);
  select.reset();
  return file;
}

FilePage FileStore::list(std::string_view cursor, std::size_t limit) const {
  // Newest first; the cursor is the seq of the last item of the previous page.
  std::int64_t before = std::numeric_limits<std::int64_t>::max();
  if (!cursor.empty()) {
    try {
      before = std::stoll(std::string(cursor));
    } catch (const std::exception&) {
      throw std::invalid_argument("not a cursor this runtime handed out");
    }
  }
  FilePage page;
  auto lock = db_.lock();
  auto& select = db_.statement(std::string("SELECT ") + kColumns +
                               " FROM files WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2");
  select.bind(1, before).bind(2, static_cast<std::int64_t>(limit + 1));
  while (select.step()) page.items.push_back(record_from(select));
  if (page.items.size() > limit) {
    page.items.pop_back();
    page.next_cursor = std::to_string(page.items.back().seq);
  }
  auto& count = db_.statement("SELECT COUNT(*) FROM files");
  count.step();
  page.total = static_cast<std::uint64_t>(count.integer(0));
  count.reset();
  return page;
}

bool FileStore::remove(std::string_view id) {
  if (!valid_id(id)) return false;
  auto lock = db_.lock();
  auto& erase = db_.statement("DELETE FROM files WHERE id = ?1");
  erase.bind(1, id).run();
  auto& changes = db_.statement("SELECT changes()");
  changes.step();
  const bool removed = changes.integer(0) > 0;
  changes.reset();
  std::error_code ignored;
  fs::remove(bytes_path(id), ignored);
  return removed;
}

FileStore::UploadEnd FileStore::complete_upload(std::string_view id, common::AtomicFile& part,
                                                std::uint64_t size,
                                                const std::string& received_content_type,
                                                FileRecord& file) {
  if (!valid_id(id)) {
    part.discard();
    return UploadEnd::deleted;
  }
  try {
    part.sync_to_disk();  // before the lock: flushing a large file takes a while
  } catch (const std::system_error& e) {
    part.discard();
    throw std::runtime_error("storing the upload failed: " + e.code().message());
  }
  // Under the database lock from the check to the update: deletes and other uploads of the
  // same file wait, so a deleted file never gets bytes back and a completed one never gets
  // new ones (the first upload to end wins; the upload URL is used up).
  auto lock = db_.lock();
  auto record = find_locked(id);
  if (!record) {
    part.discard();
    return UploadEnd::deleted;
  }
  if (record->uploaded) {
    part.discard();
    file = std::move(*record);
    return UploadEnd::already_uploaded;
  }
  try {
    part.commit();
  } catch (const std::system_error& e) {
    throw std::runtime_error("storing the upload failed: " + e.code().message());
  }
  if (record->content_type.empty() && valid_content_type(received_content_type)) {
    record->content_type = received_content_type;
  }
  record->uploaded = true;
  record->size = size;
  record->updated_at = rfc3339_now();
  auto& update = db_.statement(
      "UPDATE files SET uploaded = 1, size = ?2, content_type = ?3, updated_at = ?4 "
      "WHERE id = ?1 AND uploaded = 0");
  update.bind(1, id).bind(2, static_cast<std::int64_t>(size)).bind(3, record->content_type);
  update.bind(4, record->updated_at).run();
  file = std::move(*record);
  return UploadEnd::stored;
}

FileRecord FileStore::adopt(const fs::path& source, const std::string& filename,
                            const std::string& content_type, bool move) {
  std::error_code error;
  const auto size = fs::file_size(source, error);
  if (error) throw std::runtime_error("cannot store " + source.string() + ": " + error.message());
  FileRecord record;
  record.filename = filename.empty() ? source.filename().string() : filename;
  record.content_type = valid_content_type(content_type)
                            ? content_type
                            : common::media_type_for_file_name(record.filename);
  record.category = "outputs";
  // Reserve the id first, then put the bytes in place, then mark the record complete: a crash
  // in between leaves a record without content, never content without a record.
  record = insert(std::move(record));
  try {
    copy_or_move(source, bytes_path(record.id), move);
  } catch (...) {
    remove(record.id);
    throw;
  }
  record.uploaded = true;
  record.size = size;
  auto lock = db_.lock();
  auto& update = db_.statement("UPDATE files SET uploaded = 1, size = ?2 WHERE id = ?1");
  update.bind(1, record.id).bind(2, static_cast<std::int64_t>(size)).run();
  return record;
}

std::optional<FileRecord> FileStore::owner_of(const fs::path& path) const {
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(path, error);
  if (error || canonical.parent_path() != fs::weakly_canonical(files_dir_, error)) {
    return std::nullopt;
  }
  auto file = find(canonical.filename().string());
  if (file && !file->uploaded) return std::nullopt;
  return file;
}

std::optional<FileRecord> FileStore::resolve_uri(std::string_view uri) const {
  // "<scheme>://<authority>/files/<id>/content?token=<token>"
  const auto scheme = uri.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  const auto path_start = uri.find('/', scheme + 3);
  if (path_start == std::string_view::npos) return std::nullopt;
  const std::string_view rest = uri.substr(path_start);
  const auto question = rest.find('?');
  const std::string_view path = rest.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  constexpr std::string_view prefix = "/files/";
  constexpr std::string_view suffix = "/content";
  if (path.size() <= prefix.size() + suffix.size() || path.substr(0, prefix.size()) != prefix ||
      path.substr(path.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  const std::string_view id =
      path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  const std::string token = query_parameter(query, "token").value_or("");
  if (!valid_id(id) || token.empty()) return std::nullopt;
  auto file = find(id);
  if (!file || !token_matches(token, file->read_token)) return std::nullopt;
  return file;
}

}  // namespace infsh::local
