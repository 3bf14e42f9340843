#include "files/file_api.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "files/file_transfer.hpp"
#include "http/api_envelope.hpp"
#include "http/auth.hpp"
#include "http/json_body.hpp"

namespace infsh::local {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxFilesPerRequest = 100;
constexpr std::size_t kMaxNameBytes = 1024;
constexpr std::size_t kDefaultListLimit = 50;
constexpr std::size_t kMaxListLimit = 1000;

[[noreturn]] void invalid(const std::string& message) { throw ApiProblem(422, message); }

[[noreturn]] void file_not_found(const std::string& id) {
  throw ApiProblem(404, "file '" + id.substr(0, 100) + "' not found");
}

// The value of `key` as a string; empty when absent or null; 422 naming `where` otherwise.
std::string optional_string(const json& object, const char* key, const std::string& where,
                            std::size_t max_bytes) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) {
    invalid("field '" + where + "." + key + "' must be a string, not " + it->type_name());
  }
  const auto& text = it->get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    invalid("field '" + where + "." + key + "' is longer than " + std::to_string(max_bytes) +
            " bytes");
  }
  return text;
}

// A file name without any directory part: it is metadata, but apps may use it to name files.
std::string base_name(std::string name) {
  if (const auto slash = name.find_last_of("/\\"); slash != std::string::npos) {
    name.erase(0, slash + 1);
  }
  if (name == "." || name == "..") name.clear();
  return name;
}

NewFile parse_new_file(const json& entry, const std::string& where, const std::string& category,
                       std::uint64_t max_file_bytes) {
  if (!entry.is_object()) {
    invalid("field '" + where + R"(' must be an object like {"uri": "", "filename": ...}, not )" +
            entry.type_name());
  }
  NewFile file;
  file.category = category;
  optional_string(entry, "uri", where, kMaxNameBytes * 8);  // checked, then ignored: ours is new
  file.filename = base_name(optional_string(entry, "filename", where, kMaxNameBytes));
  file.path_hint = optional_string(entry, "path", where, kMaxNameBytes);
  file.content_type = optional_string(entry, "content_type", where, 255);
  if (!file.content_type.empty() && !valid_content_type(file.content_type)) {
    invalid("field '" + where + R"(.content_type' must be a media type like "image/png", not ")" +
            file.content_type + "\"");
  }
  if (const auto size = entry.find("size"); size != entry.end() && !size->is_null()) {
    if (!size->is_number_integer() || (size->is_number_integer() && !size->is_number_unsigned() &&
                                       size->get<std::int64_t>() < 0)) {
      invalid("field '" + where + ".size' must be a whole number of bytes, not " + size->dump());
    }
    const auto bytes = size->get<std::uint64_t>();
    if (bytes > max_file_bytes) {
      throw ApiProblem(413, "field '" + where + ".size': " + std::to_string(bytes) +
                                " bytes is more than the limit of " +
                                std::to_string(max_file_bytes));
    }
    file.size = bytes;
  }
  if (const auto flag = entry.find("public"); flag != entry.end() && !flag->is_null()) {
    if (!flag->is_boolean()) {
      invalid("field '" + where + ".public' must be true or false, not " + flag->dump());
    }
    file.is_public = flag->get<bool>();
  }
  return file;
}

// Content-Disposition with an ASCII fallback name and the exact one in RFC 5987 form.
std::string content_disposition(const std::string& filename) {
  if (filename.empty()) return "inline";
  std::string ascii;
  std::string encoded;
  constexpr std::string_view digits = "0123456789ABCDEF";
  for (const char c : filename) {
    const auto byte = static_cast<unsigned char>(c);
    const bool printable = byte >= 0x20 && byte < 0x7f;
    ascii += printable && c != '"' && c != '\\' && c != '/' ? c : '_';
    const bool attr_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') ||
                           std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
    if (attr_char) {
      encoded += c;
    } else {
      encoded += '%';
      encoded += digits[byte >> 4U];
      encoded += digits[byte & 0xfU];
    }
  }
  return "inline; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

std::optional<std::uint64_t> content_length(const Request& request) {
  const auto header = request.header("Content-Length");
  if (!header) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(header->data(), header->data() + header->size(), value);
  if (error != std::errc() || end != header->data() + header->size()) return std::nullopt;
  return value;
}

// The handlers of the file routes, sharing what they need.
class FileRoutes {
 public:
  FileRoutes(FileStore& store, SerialExecutor& io, const BaseUrl& base_url, const Logger& log,
             FileApiSettings settings)
      : store_(store), io_(io), base_url_(base_url), log_(log), settings_(std::move(settings)) {}

  // POST /files: upload slots for the files described.
  Response create(Request& request, const PathParams& /*params*/) const;
  // GET /files/{id}
  Response get(Request& request, const PathParams& params) const;
  // DELETE /files/{id}
  Response remove(Request& request, const PathParams& params) const;
  // POST /files/list
  Response list(Request& request, const PathParams& /*params*/) const;
  // PUT /_upload/{id}?token=…: the upload URL, reached without the API key (like a signed
  // URL), so the token decides. Opens the receiver the body is streamed to.
  std::shared_ptr<BodyReader> open_upload(Request& request, const PathParams& params) const;
  // GET /files/{id}/content?token=…: the file's uri, its bytes streamed from disk, for anyone
  // holding the uri (or the key).
  Response content(Request& request, const PathParams& params) const;

 private:
  FileStore& store_;
  SerialExecutor& io_;
  const BaseUrl& base_url_;
  const Logger& log_;
  const FileApiSettings settings_;
};

Response FileRoutes::create(Request& request, const PathParams& /*params*/) const {
  const json body = parse_json_body(request.body);
  if (!body.is_object()) {
    throw ApiProblem(400, std::string("request body must be a JSON object like {\"files\": "
                                      "[...]}, not ") +
                              body.type_name());
  }
  std::string category = optional_string(body, "category", "request", 64);
  if (category.empty()) category = "uploads";
  if (category != "uploads" && category != "inputs" && category != "outputs" &&
      category != "repos") {
    invalid("field 'category' must be uploads, inputs, outputs or repos, not \"" + category + "\"");
  }
  const auto files = body.find("files");
  if (files == body.end() || files->is_null()) {
    invalid(R"(field 'files' is required: a list of files to create, like [{"uri": ""}])");
  }
  if (!files->is_array()) {
    invalid(std::string("field 'files' must be a list, not ") + files->type_name());
  }
  if (files->empty()) invalid("field 'files' must hold at least one file");
  if (files->size() > kMaxFilesPerRequest) {
    invalid("field 'files' holds more than " + std::to_string(kMaxFilesPerRequest) + " files");
  }
  std::vector<NewFile> wanted;
  for (std::size_t i = 0; i < files->size(); ++i) {
    wanted.push_back(parse_new_file((*files)[i], "files[" + std::to_string(i) + "]", category,
                                    settings_.max_file_bytes));
  }
  const std::string base = base_url_.get();
  json created = json::array();
  for (const auto& file : wanted) created.push_back(to_file_dto(store_.create(file), base));
  return api_success(request, created);
}

Response FileRoutes::get(Request& request, const PathParams& params) const {
  const auto file = store_.find(params.get("id"));
  if (!file) file_not_found(params.get("id"));
  return api_success(request, to_file_dto(*file, base_url_.get()));
}

Response FileRoutes::remove(Request& request, const PathParams& params) const {
  if (!store_.remove(params.get("id"))) file_not_found(params.get("id"));
  return api_void(request);
}

Response FileRoutes::list(Request& request, const PathParams& /*params*/) const {
  const json body = parse_json_body(request.body);
  if (!body.is_object()) {
    throw ApiProblem(400,
                     std::string("request body must be a JSON object, not ") + body.type_name());
  }
  const std::string cursor = optional_string(body, "cursor", "request", 64);
  std::size_t limit = kDefaultListLimit;
  if (const auto it = body.find("limit"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > static_cast<std::int64_t>(kMaxListLimit)) {
      invalid("field 'limit' must be a whole number from 0 to " + std::to_string(kMaxListLimit) +
              " (0: the default, " + std::to_string(kDefaultListLimit) + ")");
    }
    if (it->get<std::int64_t>() > 0) limit = it->get<std::size_t>();
  }
  FilePage page;
  try {
    page = store_.list(cursor, limit);
  } catch (const std::invalid_argument&) {
    invalid("field 'cursor': \"" + cursor.substr(0, 64) + "\" is not a cursor of this list");
  }
  const std::string base = base_url_.get();
  json items = json::array();
  for (const auto& file : page.items) items.push_back(to_file_dto(file, base));
  return api_success(request, {{"items", std::move(items)},
                               {"next_cursor", page.next_cursor},
                               {"prev_cursor", ""},
                               {"has_next", !page.next_cursor.empty()},
                               {"has_previous", !cursor.empty()},
                               {"items_per_page", limit},
                               {"total_items", page.total}});
}

std::shared_ptr<BodyReader> FileRoutes::open_upload(Request& request,
                                                    const PathParams& params) const {
  const auto& id = params.get("id");
  const auto file = store_.find(id);
  if (!file) throw ApiProblem(404, "no upload URL for file '" + id.substr(0, 100) + "'");
  const auto token = query_parameter(request.query, "token");
  if (!token || !token_matches(*token, file->upload_token)) {
    throw ApiProblem(403, "the upload URL's token is missing or wrong");
  }
  if (file->uploaded) throw ApiProblem(409, already_uploaded_message(id));
  if (const auto length = content_length(request)) {
    if (file->declared_size && *length != *file->declared_size) {
      throw ApiProblem(400, "the upload does not have the size declared for file " + id + ": " +
                                std::to_string(*file->declared_size) +
                                " bytes declared, Content-Length " + std::to_string(*length));
    }
    if (*length > settings_.max_file_bytes) {
      throw ApiProblem(413, "the upload is larger than the limit of " +
                                std::to_string(settings_.max_file_bytes) + " bytes");
    }
  }
  UploadSettings upload;
  upload.max_file_bytes = settings_.max_file_bytes;
  upload.base_url = base_url_.get();
  upload.version = api_version(request);
  return make_upload_receiver(store_, io_, log_, *file,
                              std::string(request.header("Content-Type").value_or("")),
                              std::move(upload));
}

Response FileRoutes::content(Request& request, const PathParams& params) const {
  const auto& id = params.get("id");
  const auto file = store_.find(id);
  if (!file) file_not_found(id);
  const auto token = query_parameter(request.query, "token");
  const bool allowed = (token && token_matches(*token, file->read_token)) ||
                       (!settings_.api_key.empty() &&
                        bearer_matches(request.header("Authorization"), settings_.api_key));
  if (!allowed) throw ApiProblem(403, "the file URL's token is missing or wrong");
  if (!file->uploaded) {
    throw ApiProblem(409, "file '" + id + "' has no content yet: its upload has not completed");
  }
  const int fd = ::open(store_.bytes_path(id).c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info {};
  if (fd < 0 || ::fstat(fd, &info) != 0) {
    if (fd >= 0) ::close(fd);
    throw ApiProblem(410, "the content of file '" + id + "' is gone from the data directory");
  }
  Response response;
  response.status = 200;
  response.headers = {{"Content-Type", effective_content_type(*file)},
                      {"Content-Disposition", content_disposition(file->filename)},
                      {"Cache-Control", "private, max-age=0"},
                      {"X-Content-Type-Options", "nosniff"}};
  response.content_length = static_cast<std::uint64_t>(info.st_size);
  response.source = make_file_source(io_, fd);
  return response;
}

}  // namespace

void register_file_routes(Router& router, FileStore& store, SerialExecutor& io,
                          const BaseUrl& base_url, const Logger& log, FileApiSettings settings) {
  // The routes share one FileRoutes, kept alive by the router's handlers.
  const auto routes =
      std::make_shared<const FileRoutes>(store, io, base_url, log, std::move(settings));
  using Handler = Response (FileRoutes::*)(Request&, const PathParams&) const;
  const auto handler = [&routes](Handler method) -> RouteHandler {
    return [routes, method](Request& request, const PathParams& params) {
      return ((*routes).*method)(request, params);
    };
  };
  router.add("POST", "/files", handler(&FileRoutes::create));
  router.add("GET", "/files/{id}", handler(&FileRoutes::get));
  router.add("DELETE", "/files/{id}", handler(&FileRoutes::remove));
  router.add("POST", "/files/list", handler(&FileRoutes::list));
  router.add_streamed(
      "PUT", "/_upload/{id}",
      [routes](Request& request, const PathParams& params) {
        return routes->open_upload(request, params);
      },
      RouteOptions{.authenticated = false});
  router.add("GET", "/files/{id}/content", handler(&FileRoutes::content),
             RouteOptions{.authenticated = false});
}

}  // namespace infsh::local
