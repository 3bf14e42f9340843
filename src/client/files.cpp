#include "inferencesh/files.hpp"

#include "client_core.hpp"
#include "common/json_fields.hpp"
#include "file_operations.hpp"
#include "file_transfer.hpp"
#include "inferencesh/errors.hpp"
#include "input_files.hpp"

namespace inferencesh {

FileRef FileRef::from_json(const nlohmann::json& object) {
  FileRef file;
  if (!object.is_object()) return file;
  file.raw = object;
  file.id = common::string_field_or(object, "id");
  file.uri = common::string_field_or(object, "uri");
  file.filename = common::string_field_or(object, "filename");
  file.content_type = common::string_field_or(object, "content_type");
  if (const auto size = object.find("size"); size != object.end() && size->is_number_unsigned()) {
    file.size = size->get<std::uint64_t>();
  } else if (size != object.end() && size->is_number_integer() && size->get<long long>() > 0) {
    file.size = static_cast<std::uint64_t>(size->get<long long>());
  }
  return file;
}

nlohmann::json file_path(const std::filesystem::path& path, FileMetadata metadata) {
  nlohmann::json spec = {{"source", "path"}, {"path", path.string()}};
  if (!metadata.filename.empty()) spec["filename"] = std::move(metadata.filename);
  if (!metadata.content_type.empty()) spec["content_type"] = std::move(metadata.content_type);
  return nlohmann::json{{detail::kFileValueKey, std::move(spec)}};
}

nlohmann::json file_bytes(std::string bytes, FileMetadata metadata) {
  // Kept as a JSON binary value: it never leaves the process as JSON text, it is uploaded.
  nlohmann::json spec = {
      {"source", "bytes"},
      {"bytes", nlohmann::json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()))}};
  if (!metadata.filename.empty()) spec["filename"] = std::move(metadata.filename);
  if (!metadata.content_type.empty()) spec["content_type"] = std::move(metadata.content_type);
  return nlohmann::json{{detail::kFileValueKey, std::move(spec)}};
}

bool is_file_value(const nlohmann::json& value) noexcept {
  return value.is_object() && value.size() == 1 && value.contains(detail::kFileValueKey);
}

FileRef Files::upload(const std::string& source, const UploadFileOptions& options) const {
  return detail::upload_file(*core_, detail::source_from_string(source), options);
}

FileRef Files::upload(const std::filesystem::path& path, const UploadFileOptions& options) const {
  return detail::upload_file(*core_, detail::source_from_path(path), options);
}

FileRef Files::upload(const std::vector<std::uint8_t>& bytes,
                      const UploadFileOptions& options) const {
  return detail::upload_file(
      *core_, detail::source_from_bytes(std::string(bytes.begin(), bytes.end())), options);
}

FileRef Files::upload_bytes(std::string_view bytes, const UploadFileOptions& options) const {
  return detail::upload_file(*core_, detail::source_from_bytes(std::string(bytes)), options);
}

std::filesystem::path Files::download(const std::string& uri,
                                      const std::filesystem::path& destination,
                                      const DownloadOptions& options) const {
  return detail::download_file(*core_, uri, {}, destination, options);
}

std::filesystem::path Files::download(const FileRef& file, const std::filesystem::path& destination,
                                      const DownloadOptions& options) const {
  if (file.uri.empty()) throw InvalidArgumentError("files.download: the file has no uri");
  return detail::download_file(*core_, file.uri, file.filename, destination, options);
}

FileRef Files::get(const std::string& file_id) const {
  return detail::file_from_payload(core_->call(detail::get_file_call(file_id)).data, file_id);
}

void Files::remove(const std::string& file_id) const {
  core_->call(detail::delete_file_call(file_id));
}

}  // namespace inferencesh
