#include "infsh/file.hpp"

#include "client/download.hpp"
#include "common/data_uri.hpp"
#include "common/json_fields.hpp"
#include "common/percent_encoding.hpp"
#include "file_cache.hpp"
#include "infsh/errors.hpp"
#include "mime_types.hpp"

namespace infsh {
namespace {

// "file:///a/b", "file://localhost/a/b", "file:/a/b" → "/a/b".
std::string path_of_file_url(const std::string& uri) {
  std::string rest = uri.substr(5);  // after "file:"
  if (rest.rfind("//", 0) == 0) {
    const auto slash = rest.find('/', 2);
    const std::string host =
        rest.substr(2, slash == std::string::npos ? std::string::npos : slash - 2);
    if (!host.empty() && host != "localhost") {
      throw FileError("file URL '" + uri + "' names another host (" + host + ")");
    }
    rest = slash == std::string::npos ? std::string() : rest.substr(slash);
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (rest.empty() || rest[0] != '/')
    throw FileError("file URL '" + uri + "' has no absolute path");
  auto decoded = inferencesh::common::percent_decode(rest);
  if (!decoded) throw FileError("file URL '" + uri + "' has a malformed percent-escape");
  return *decoded;
}

std::filesystem::path absolute_path(const std::filesystem::path& path) {
  std::error_code error;
  auto result = std::filesystem::absolute(path, error);
  return error ? path : result.lexically_normal();
}

std::string type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::object:
      return "object";
    default:
      return "number";
  }
}

}  // namespace

File File::from_path(const std::filesystem::path& path) {
  File file;
  file.path = absolute_path(path).string();
  file.uri = path.string();
  file.fill_missing_metadata();
  return file;
}

File File::from_uri(const std::string& uri, const FileResolveOptions& options) {
  if (uri.empty()) throw FileError("a file needs a URI or a path, got an empty string");
  const std::string scheme = inferencesh::common::uri_scheme(uri);
  File file;
  file.uri = uri;
  if (scheme.empty()) {
    file.path = absolute_path(uri).string();
  } else if (scheme == "http" || scheme == "https") {
    file.path = detail::resolve_url(uri, options).string();
  } else if (scheme == "data") {
    file.path = detail::resolve_data_uri(uri, options, file.content_type).string();
  } else if (scheme == "file") {
    file.path = absolute_path(path_of_file_url(uri)).string();
  } else {
    const std::string shown = scheme == "inf" || uri.size() <= 80 ? uri : uri.substr(0, 80) + "...";
    throw FileError("unsupported URI scheme '" + scheme + "' in '" +
                    inferencesh::detail::url_without_query(shown) +
                    "' (expected http, https, data, file or a local path)");
  }
  file.fill_missing_metadata();
  return file;
}

bool File::exists() const {
  std::error_code error;
  return !path.empty() && std::filesystem::is_regular_file(path, error);
}

void File::resolve(const FileResolveOptions& options) {
  if (path.empty()) {
    if (uri.empty()) throw FileError("a file needs a URI or a path; this one has neither");
    const File resolved = from_uri(uri, options);
    path = resolved.path;
    if (content_type.empty()) content_type = resolved.content_type;
  } else {
    path = absolute_path(path).string();
  }
  fill_missing_metadata();
}

void File::fill_missing_metadata() {
  if (path.empty()) return;
  const std::filesystem::path local(path);
  if (filename.empty()) filename = local.filename().string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(local, error)) {
    if (content_type.empty()) content_type = guess_content_type(filename);
    return;
  }
  if (content_type.empty()) content_type = detail::detect_content_type(local);
  if (!size || *size == 0) {
    const auto bytes = std::filesystem::file_size(local, error);
    if (!error) size = bytes;
  }
}

void File::refresh_metadata() {
  if (!exists()) return;
  const std::filesystem::path local(path);
  content_type = detail::detect_content_type(local);
  std::error_code error;
  const auto bytes = std::filesystem::file_size(local, error);
  if (!error) size = bytes;
  filename = local.filename().string();
}

nlohmann::ordered_json File::to_json() const {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  if (!uri.empty()) json["uri"] = uri;
  if (!path.empty()) json["path"] = path;
  if (!content_type.empty()) json["content_type"] = content_type;
  if (size) json["size"] = *size;
  if (!filename.empty()) json["filename"] = filename;
  return json;
}

File File::from_json(const nlohmann::json& json) {
  File file;
  if (json.is_null()) return file;
  if (json.is_string()) {
    file.uri = json.get<std::string>();
    return file;
  }
  if (!json.is_object()) {
    throw FileError("expected a file (a URI string or an object with uri/path), got " +
                    type_name(json));
  }
  const auto text = [&json](const char* key, std::string& out) {
    try {
      if (auto value = inferencesh::common::optional_string_field(json, key)) out = *value;
    } catch (const inferencesh::common::FieldTypeError& e) {
      throw FileError("file field '" + e.field() + "' must be a string, got " + e.actual());
    }
  };
  text("uri", file.uri);
  text("path", file.path);
  text("content_type", file.content_type);
  text("filename", file.filename);
  if (const auto found = json.find("size"); found != json.end() && !found->is_null()) {
    if (!found->is_number_unsigned() &&
        !(found->is_number_integer() && found->get<std::int64_t>() >= 0)) {
      throw FileError("file field 'size' must be a non-negative integer");
    }
    file.size = found->get<std::uint64_t>();
  }
  if (file.empty() && !json.empty()) {
    throw FileError("a file object needs 'uri' or 'path'");
  }
  return file;
}

}  // namespace infsh
