#include "file_operations.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/media_types.hpp"
#include "common/percent_encoding.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

struct Origin {
  std::string scheme;
  std::string host;
  std::string port;
};

std::optional<Origin> origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  Origin origin;
  origin.scheme = std::string(url.substr(0, scheme_end));
  std::transform(origin.scheme.begin(), origin.scheme.end(), origin.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user:password@ never counts
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    host = authority.substr(0, close == std::string_view::npos ? authority.size() : close + 1);
    if (close != std::string_view::npos && close + 1 < authority.size() &&
        authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  origin.host = std::string(host);
  std::transform(origin.host.begin(), origin.host.end(), origin.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  origin.port = port.empty() ? (origin.scheme == "https" ? "443" : "80") : std::string(port);
  return origin;
}

}  // namespace

std::string choose_content_type(std::string_view option, std::string_view data_uri_type,
                                std::string_view file_name) {
  if (!option.empty()) return std::string(option);
  if (!data_uri_type.empty()) return std::string(data_uri_type);
  if (!file_name.empty()) {
    if (auto type = common::media_type_for_file_name(file_name); !type.empty()) return type;
  }
  return "application/octet-stream";
}

ApiCall create_file_call(const UploadMetadata& metadata) {
  nlohmann::json slot = {
      {"uri", ""}, {"content_type", metadata.content_type}, {"size", metadata.size}};
  if (!metadata.filename.empty()) slot["filename"] = metadata.filename;
  if (!metadata.path.empty()) slot["path"] = metadata.path;
  if (metadata.is_public) slot["public"] = true;
  ApiCall call;
  call.method = "POST";
  call.path = "/files";
  call.body = nlohmann::json{{"files", nlohmann::json::array({slot})}};
  return call;
}

namespace {

std::string file_path_of(const std::string& file_id) {
  if (file_id.empty()) throw InvalidArgumentError("file id must not be empty");
  return "/files/" + encode_path_segment(file_id);
}

}  // namespace

ApiCall get_file_call(const std::string& file_id) {
  ApiCall call;
  call.path = file_path_of(file_id);
  return call;
}

ApiCall delete_file_call(const std::string& file_id) {
  ApiCall call;
  call.method = "DELETE";
  call.path = file_path_of(file_id);
  return call;
}

FileRef file_from_payload(const nlohmann::json& data, const std::string& file_id) {
  if (!data.is_object()) throw DecodeError("GET /files/" + file_id + ": expected a file");
  return FileRef::from_json(data);
}

CreatedFile created_file(const nlohmann::json& data) {
  const nlohmann::json* dto = &data;
  if (data.is_array()) {
    if (data.empty()) throw DecodeError("POST /files: the server created no file");
    dto = &data.front();
  }
  if (!dto->is_object()) throw DecodeError("POST /files: expected a file object");
  CreatedFile created;
  created.file = FileRef::from_json(*dto);
  const auto url = dto->find("upload_url");
  if (url == dto->end() || !url->is_string() || url->get_ref<const std::string&>().empty()) {
    throw DecodeError("POST /files: no upload URL provided by the server");
  }
  created.upload_url = url->get<std::string>();
  return created;
}

std::string safe_file_name(std::string_view candidate) {
  std::string name = common::percent_decode_lenient(candidate);
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name.erase(0, slash + 1);
  std::string clean;
  clean.reserve(name.size());
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || c == ':' || c == '*' || c == '?' || c == '"' || c == '<' ||
        c == '>' || c == '|') {
      clean.push_back('_');
    } else {
      clean.push_back(c);
    }
  }
  const auto first = clean.find_first_not_of(". ");
  clean.erase(0, first == std::string::npos ? clean.size() : first);
  while (!clean.empty() && (clean.back() == ' ' || clean.back() == '.')) clean.pop_back();
  if (clean.size() > 200) {
    clean.resize(200);
    // Do not leave half a UTF-8 sequence at the end.
    while (!clean.empty() && (static_cast<unsigned char>(clean.back()) & 0xC0U) == 0x80U) {
      clean.pop_back();
    }
    if (!clean.empty() && (static_cast<unsigned char>(clean.back()) & 0x80U) != 0) clean.pop_back();
  }
  return clean.empty() ? std::string("download") : clean;
}

std::string url_file_name(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
    const auto path = url.find('/');
    url = path == std::string_view::npos ? std::string_view() : url.substr(path);
  }
  const auto slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

std::optional<std::string> content_disposition_file_name(std::string_view header) {
  // filename*=UTF-8''name%20x wins over filename="name x".
  std::optional<std::string> plain;
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view part = header.substr(pos, end - pos);
    pos = end + 1;
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(part.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = part.substr(eq + 1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (key == "filename*") {
      const auto quote = value.find("''");
      if (quote != std::string_view::npos) {
        return common::percent_decode_lenient(value.substr(quote + 2));
      }
    } else if (key == "filename") {
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      plain = std::string(value);
    }
  }
  return plain;
}

bool is_http_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto host = url.substr(scheme_end + 3);
  return (scheme == "http" || scheme == "https") && !host.empty() && host.find_first_of("/?#") != 0;
}

namespace {

// RFC 3986 5.2.4: "/a/b/../c/./d" → "/a/c/d".
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  std::size_t at = 0;
  while (at <= path.size()) {
    auto end = path.find('/', at);
    if (end == std::string_view::npos) end = path.size();
    const auto segment = path.substr(at, end - at);
    const bool last = end == path.size();
    if (segment == "..") {
      if (kept.size() > 1) kept.pop_back();
      if (last) kept.emplace_back();
    } else if (segment == ".") {
      if (last) kept.emplace_back();
    } else {
      kept.push_back(segment);
    }
    at = end + 1;
  }
  std::string result;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) result += '/';
    result += kept[i];
  }
  return result.empty() || result.front() != '/' ? "/" + result : result;
}

}  // namespace

std::optional<std::string> resolve_redirect(std::string_view base, std::string_view location) {
  location = location.substr(0, location.find('#'));
  while (!location.empty() && (location.front() == ' ' || location.front() == '\t')) {
    location.remove_prefix(1);
  }
  base = base.substr(0, base.find('#'));
  const auto colon = location.find(':');
  const auto delimiter = location.find_first_of("/?");
  std::string resolved;
  if (colon != std::string_view::npos &&
      (delimiter == std::string_view::npos || colon < delimiter)) {
    resolved = std::string(location);  // has a scheme of its own
  } else {
    const auto scheme_end = base.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    const auto authority_end = base.find_first_of("/?", scheme_end + 3);
    const auto origin = base.substr(0, authority_end);
    const auto rest =
        authority_end == std::string_view::npos ? std::string_view() : base.substr(authority_end);
    const auto path = rest.substr(0, rest.find('?'));
    if (location.substr(0, 2) == "//") {
      resolved = std::string(base.substr(0, scheme_end + 1)) + std::string(location);
    } else if (!location.empty() && location.front() == '/') {
      const auto query = location.find('?');
      resolved = std::string(origin) + remove_dot_segments(location.substr(0, query)) +
                 std::string(query == std::string_view::npos ? "" : location.substr(query));
    } else if (location.empty() || location.front() == '?') {
      resolved = std::string(origin) + std::string(path.empty() ? "/" : path) +
                 std::string(location.empty() ? rest.substr(path.size()) : location);
    } else {
      const auto directory = path.substr(0, path.rfind('/') + 1);
      const auto query = location.find('?');
      const std::string joined =
          std::string(directory.empty() ? "/" : directory) + std::string(location.substr(0, query));
      resolved = std::string(origin) + remove_dot_segments(joined) +
                 std::string(query == std::string_view::npos ? "" : location.substr(query));
    }
  }
  if (!is_http_url(resolved)) return std::nullopt;
  return resolved;
}

bool same_origin(std::string_view url, std::string_view base_url) {
  const auto a = origin_of(url);
  const auto b = origin_of(base_url);
  return a && b && a->scheme == b->scheme && a->host == b->host && a->port == b->port;
}

}  // namespace inferencesh::detail
