#include "tasks/task_files.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "common/data_uri.hpp"
#include "common/json_fields.hpp"
#include "common/media_types.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "where.key": where an object's member is, for error messages.
std::string member_path(const std::string& where, const std::string& key) {
  std::string path = where;
  path += '.';
  path += key;
  return path;
}

bool is_file_key(const std::string& key) {
  return key == "uri" || key == "path" || key == "content_type" || key == "size" ||
         key == "filename";
}

bool is_file_shaped(const json& value, const char* required) {
  return is_file_object(value, required);
}

std::string origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto path = url.find_first_of("/?#", scheme + 3);
  return std::string(url.substr(0, path));
}

// True when `path` (made canonical) lies inside `root` (canonical).
bool inside(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (p == path.end() || *p != *r) return false;
  }
  return p != path.end();
}

class InputWalker {
 public:
  InputWalker(const FileStore& store, const std::string& base_url, fs::path inputs_dir)
      : store_(store), base_origin_(origin_of(base_url)), inputs_dir_(std::move(inputs_dir)) {}

  void walk(json& value, const std::string& where) {
    if (value.is_string()) {
      resolve_string(value, where);
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        walk(value[i], where + "[" + std::to_string(i) + "]");
      }
    } else if (value.is_object()) {
      if (resolve_object(value, where)) return;
      for (const auto& [key, member] : value.items()) walk(member, member_path(where, key));
    }
  }

  // One value where a File belongs: resolved when it is one of ours or a data: URI, left as it
  // is otherwise (the app judges it).
  void resolve_file(json& value, const std::string& where) {
    if (value.is_string()) {
      resolve_string(value, where);
    } else if (value.is_object()) {
      resolve_object(value, where);
    }
  }

 private:
  // A File object {"uri", ...}: replaced by the resolved file; false when its uri is not ours.
  bool resolve_object(json& value, const std::string& where) {
    if (!is_file_shaped(value, "uri")) return false;
    json file = value.at("uri");
    if (!resolve_string(file, where + ".uri")) return false;
    // Keep what the client said about the file (name, type) over what we know; a name never
    // keeps a directory part.
    if (auto name = common::string_field_or(value, "filename"); !name.empty()) {
      file["filename"] = fs::path(name).filename().string();
    }
    if (auto type = common::string_field_or(value, "content_type"); !type.empty()) {
      file["content_type"] = type;
    }
    value = std::move(file);
    return true;
  }

  // Replaces a uri or data URI string by a File object; false when it is neither.
  bool resolve_string(json& value, const std::string& where) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.rfind("data:", 0) == 0) {
      value = decode(text, where);
      return true;
    }
    if (text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0) return false;
    const auto file = store_.resolve_uri(text);
    if (!file) {
      // One of our URLs that names nothing we have is a mistake worth saying; others are not
      // ours to judge.
      const bool ours =
          origin_of(text) == base_origin_ && text.find("/files/") != std::string::npos;
      if (ours)
        throw TaskFileError(where +
                            ": no file of this runtime has this uri (deleted, "
                            "or a wrong token)");
      return false;
    }
    if (!file->uploaded) {
      throw TaskFileError(where + ": file " + file->id +
                          " has no content yet (its upload did not complete)");
    }
    json resolved = {{"uri", text},
                     {"path", store_.bytes_path(file->id).string()},
                     {"content_type", effective_content_type(*file)},
                     {"size", file->size}};
    if (!file->filename.empty()) resolved["filename"] = file->filename;
    value = std::move(resolved);
    return true;
  }

  json decode(const std::string& text, const std::string& where) {
    std::string reason;
    auto uri = common::parse_data_uri(text, &reason);
    if (!uri) throw TaskFileError(where + ": not a valid data: URI (" + reason + ")");
    if (uri->media_type.empty()) uri->media_type = "text/plain";  // RFC 2397's default
    std::error_code error;
    fs::create_directories(inputs_dir_, error);
    const std::string name =
        "input-" + std::to_string(++count_) + common::extension_for_media_type(uri->media_type);
    const fs::path path = inputs_dir_ / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(uri->bytes.data(), static_cast<std::streamsize>(uri->bytes.size()));
    out.close();
    if (!out)
      throw TaskFileError(where + ": cannot write the decoded data URI to " + path.string());
    return {{"path", path.string()},
            {"content_type", uri->media_type},
            {"size", uri->bytes.size()},
            {"filename", name}};
  }

  const FileStore& store_;
  std::string base_origin_;
  fs::path inputs_dir_;
  int count_ = 0;
};

// "/images/*/mask" → {"images", "*", "mask"}, with "~1" and "~0" unescaped.
std::vector<std::string> pointer_tokens(const std::string& pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  std::size_t start = pointer.front() == '/' ? 1 : 0;
  for (;;) {
    const auto end = pointer.find('/', start);
    std::string token = pointer.substr(start, end == std::string::npos ? end : end - start);
    for (std::size_t at = token.find('~'); at != std::string::npos; at = token.find('~', at + 1)) {
      if (at + 1 < token.size() && token[at + 1] == '1')
        token.replace(at, 2, "/");
      else if (at + 1 < token.size() && token[at + 1] == '0')
        token.replace(at, 2, "~");
    }
    tokens.push_back(std::move(token));
    if (end == std::string::npos) return tokens;
    start = end + 1;
  }
}

// Calls `visit` on every value `tokens` (from `index` on) names under `value`; `*` matches
// every array item and every member. Missing places are skipped.
template <class Json, class Visit>
void for_each_location(Json& value, const std::vector<std::string>& tokens, std::size_t index,
                       const std::string& where, const Visit& visit) {
  if (index == tokens.size()) {
    visit(value, where);
    return;
  }
  const std::string& token = tokens[index];
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (token == "*" || token == std::to_string(i)) {
        for_each_location(value[i], tokens, index + 1, where + "[" + std::to_string(i) + "]",
                          visit);
      }
    }
  } else if (value.is_object()) {
    if (token == "*") {
      for (auto& [key, member] : value.items()) {
        for_each_location(member, tokens, index + 1, member_path(where, key), visit);
      }
    } else if (const auto it = value.find(token); it != value.end()) {
      for_each_location(*it, tokens, index + 1, where + "." + token, visit);
    }
  }
}

class OutputWalker {
 public:
  OutputWalker(FileStore& store, std::string base_url, const fs::path& scratch)
      : store_(store), base_url_(std::move(base_url)) {
    std::error_code error;
    scratch_ = fs::weakly_canonical(scratch, error);
  }

  void walk(json& value, const std::string& where) {
    if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        walk(value[i], where + "[" + std::to_string(i) + "]");
      }
    } else if (value.is_object()) {
      if (is_file_shaped(value, "path") && store(value, where)) return;
      for (const auto& [key, member] : value.items()) walk(member, member_path(where, key));
    }
  }

 private:
  bool store(json& value, const std::string& where) {
    std::error_code error;
    const fs::path path = fs::weakly_canonical(value.at("path").get<std::string>(), error);
    if (error) return false;
    if (!scratch_.empty() && inside(path, scratch_)) {
      if (!fs::is_regular_file(path, error)) {
        throw TaskFileError(where + ": the output file " + path.string() + " does not exist");
      }
      try {
        const auto file = store_.adopt(path, common::string_field_or(value, "filename"),
                                       common::string_field_or(value, "content_type"), true);
        value = file_uri(base_url_, file);
      } catch (const std::exception& e) {
        throw TaskFileError(where + ": " + e.what());
      }
      return true;
    }
    if (const auto file = store_.owner_of(path)) {
      value = file_uri(base_url_, *file);
      return true;
    }
    return false;
  }

  FileStore& store_;
  std::string base_url_;
  fs::path scratch_;
};

// ---- client values that name local files ------------------------------------------------------

constexpr const char* kHowToSendFiles =
    "input files come from this runtime's stored files (upload with POST /files and pass the "
    "uri), data: URIs or http(s) URLs";

std::string shown(const std::string& text) {
  return text.size() <= 80 ? text : text.substr(0, 80) + "...";
}

// A string where a File is expected, as infsh::File would open it.
void check_file_text(const std::string& text, const std::string& where) {
  if (text.empty()) return;  // no file
  const std::string scheme = common::uri_scheme(text);
  if (scheme.empty()) {
    throw TaskFileError(where + ": \"" + shown(text) +
                        "\" is a local path, and a client cannot name files of the runtime's "
                        "machine; " +
                        kHowToSendFiles);
  }
  if (scheme == "file") {
    throw TaskFileError(where +
                        ": file: URIs name files of the runtime's machine and are not "
                        "accepted; " +
                        kHowToSendFiles);
  }
}

// A File object: its `path` is refused whatever it holds, its `uri` as a string at a File place.
void check_file_object(const json& file, const std::string& where) {
  if (const auto path = file.find("path"); path != file.end() && !path->is_null()) {
    throw TaskFileError(where + ".path: a client cannot name files of the runtime's machine; " +
                        kHowToSendFiles);
  }
  if (const auto uri = file.find("uri"); uri != file.end() && uri->is_string()) {
    check_file_text(uri->get_ref<const std::string&>(), where + ".uri");
  }
}

bool only_file_keys(const json& object) {
  const auto items = object.items();
  return std::all_of(items.begin(), items.end(),
                     [](const auto& item) { return is_file_key(item.key()); });
}

bool is_file_like(const json& value) {
  if (!value.is_object() || value.empty()) return false;
  if (!value.contains("path") && !value.contains("uri")) return false;
  return only_file_keys(value);
}

// Every File object in `value`, however deep.
void check_everywhere(const json& value, const std::string& where) {
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      check_everywhere(value[i], where + "[" + std::to_string(i) + "]");
    }
  } else if (value.is_object()) {
    if (is_file_like(value)) {
      check_file_object(value, where);
      return;
    }
    for (const auto& [key, member] : value.items())
      check_everywhere(member, member_path(where, key));
  }
}

// One value at a place the app declared for a File.
void check_at_file_place(const json& value, const std::string& where) {
  if (value.is_string()) {
    check_file_text(value.get_ref<const std::string&>(), where);
  } else if (value.is_object()) {
    check_file_object(value, where);
  }
}

}  // namespace

bool is_file_object(const json& value, const char* required) {
  if (!value.is_object()) return false;
  const auto it = value.find(required);
  if (it == value.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return false;
  }
  return only_file_keys(value);
}

void check_client_files(const json& value, const std::string& root,
                        const std::optional<std::vector<std::string>>& locations) {
  if (!locations) {
    check_everywhere(value, root);
    return;
  }
  for (const auto& pointer : *locations) {
    for_each_location(value, pointer_tokens(pointer), 0, root, check_at_file_place);
  }
}

TaskFiles::TaskFiles(FileStore& store, const BaseUrl& base_url, fs::path work_dir)
    : store_(store), base_url_(base_url), work_dir_(std::move(work_dir)) {}

fs::path TaskFiles::scratch_dir(const std::string& task_id) const { return work_dir_ / task_id; }

fs::path TaskFiles::output_dir(const std::string& task_id) const {
  fs::path dir = scratch_dir(task_id) / "outputs";
  std::error_code error;
  fs::create_directories(dir, error);
  return dir;
}

json TaskFiles::resolve_input(const json& input, const std::string& task_id,
                              const std::optional<std::vector<std::string>>& locations) const {
  check_client_files(input, "input", locations);
  json resolved = input;
  InputWalker walker(store_, base_url_.get(), scratch_dir(task_id) / "inputs");
  if (!locations) {
    walker.walk(resolved, "input");
    return resolved;
  }
  for (const auto& pointer : *locations) {
    for_each_location(
        resolved, pointer_tokens(pointer), 0, "input",
        [&walker](json& value, const std::string& where) { walker.resolve_file(value, where); });
  }
  return resolved;
}

json TaskFiles::store_output(const json& output, const std::string& task_id) const {
  json stored = output;
  OutputWalker walker(store_, base_url_.get(), scratch_dir(task_id));
  walker.walk(stored, "output");
  return stored;
}

void TaskFiles::cleanup(const std::string& task_id) const noexcept {
  std::error_code error;
  fs::remove_all(scratch_dir(task_id), error);
}

}  // namespace infsh::local
