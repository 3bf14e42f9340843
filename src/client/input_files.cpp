#include "input_files.hpp"

#include <algorithm>
#include <filesystem>
#include <future>
#include <vector>

#include "common/base64.hpp"
#include "common/json_fields.hpp"
#include "file_transfer.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

namespace fs = std::filesystem;

bool is_file_shaped(const nlohmann::json& value) {
  if (!value.is_object() || value.empty()) return false;
  const auto path = value.find("path");
  if (path == value.end() || !path->is_string() || path->get_ref<const std::string&>().empty()) {
    return false;
  }
  const auto members = value.items();
  return std::all_of(members.begin(), members.end(), [](const auto& member) {
    const std::string& key = member.key();
    return key == "uri" || key == "path" || key == "filename" || key == "content_type" ||
           key == "size";
  });
}

class Collector {
 public:
  explicit Collector(bool guess) : guess_(guess) {}

  void walk(nlohmann::json& value, const std::string& where) {
    if (value.is_string()) {
      visit_string(value, where);
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i)
        walk(value[i], where + "/" + std::to_string(i));
    } else if (value.is_object()) {
      visit_object(value, where);
    }
  }

  std::vector<InputFile> take() { return std::move(pending_); }

 private:
  void add(nlohmann::json& slot, UploadSource source, UploadFileOptions options = {}) {
    pending_.push_back(InputFile{&slot, std::make_shared<const UploadSource>(std::move(source)),
                                 std::move(options)});
  }

  template <typename Make>
  UploadSource checked(const std::string& where, Make make) {
    try {
      return make();
    } catch (const InvalidArgumentError& e) {
      throw InvalidArgumentError(where + ": " + e.what());
    }
  }

  void visit_string(nlohmann::json& value, const std::string& where) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.rfind("data:", 0) == 0) {
      add(value, checked(where, [&] { return source_from_string(text); }));
      return;
    }
    if (!guess_) return;
    std::error_code error;
    if (fs::is_regular_file(fs::path(text), error)) {
      add(value, checked(where, [&] { return source_from_path(text); }));
    } else if (common::is_strict_base64(text, 16)) {
      add(value, source_from_bytes(*common::decode_base64(text)));
    }
  }

  void visit_object(nlohmann::json& value, const std::string& where) {
    if (value.size() == 1 && value.contains(kFileValueKey)) {
      const auto& spec = value[kFileValueKey];
      UploadFileOptions options;
      options.filename = common::string_field_or(spec, "filename");
      options.content_type = common::string_field_or(spec, "content_type");
      const std::string kind = common::string_field_or(spec, "source");
      if (kind == "path") {
        const std::string path = common::string_field_or(spec, "path");
        add(value, checked(where, [&] { return source_from_path(path); }), options);
      } else if (kind == "bytes" && spec.contains("bytes") && spec["bytes"].is_binary()) {
        const auto& bytes = spec["bytes"].get_binary();
        add(value, source_from_bytes(std::string(bytes.begin(), bytes.end())), options);
      } else {
        throw InvalidArgumentError(where + ": malformed file value");
      }
      return;
    }
    if (is_file_shaped(value)) {
      const std::string path = common::string_field_or(value, "path");
      const std::string uri = common::string_field_or(value, "uri");
      if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) {
        value = uri;  // already stored somewhere reachable
        return;
      }
      std::error_code error;
      if (fs::exists(fs::path(path), error) || value.size() > 1) {
        UploadFileOptions options;
        options.filename = common::string_field_or(value, "filename");
        options.content_type = common::string_field_or(value, "content_type");
        add(value, checked(where, [&] { return source_from_path(path); }), options);
        return;
      }
    }
    for (const auto& [key, member] : value.items()) {
      walk(member, std::string(where).append("/").append(key));
    }
  }

  bool guess_;
  std::vector<InputFile> pending_;
};

}  // namespace

std::vector<InputFile> collect_input_files(nlohmann::json& input, bool guess) {
  Collector collector(guess);
  collector.walk(input, "input");
  return collector.take();
}

void upload_input_files(const ClientCore& core, nlohmann::json& input, bool guess,
                        const CancellationToken& cancel) {
  std::vector<InputFile> pending = collect_input_files(input, guess);
  if (pending.empty()) return;

  constexpr std::size_t kParallel = kParallelInputUploads;
  for (std::size_t start = 0; start < pending.size(); start += kParallel) {
    const std::size_t end = std::min(pending.size(), start + kParallel);
    std::vector<std::future<FileRef>> uploads;
    for (std::size_t i = start; i < end; ++i) {
      pending[i].options.cancel = cancel;
      uploads.push_back(std::async(std::launch::async, [&core, &upload = pending[i]] {
        return upload_file(core, *upload.source, upload.options);
      }));
    }
    std::exception_ptr failure;
    for (std::size_t i = start; i < end; ++i) {
      try {
        *pending[i].slot = uploads[i - start].get().uri;
      } catch (...) {
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
  }
}

}  // namespace inferencesh::detail
