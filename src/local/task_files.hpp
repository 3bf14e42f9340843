#pragma once

// Files crossing the app boundary. Apps see local paths; clients see uris.
//
// Input: the runtime walks a task's input (anywhere, for apps without a schema; only where the
// app says Files are, for app programs) and replaces
//   - a uri of a file this runtime stores (a string, or the `uri` of an object), and
//   - a `data:` URI (decoded into the task's scratch directory)
// with a File object {"uri"?, "path", "content_type", "size", "filename"} whose `path` is a local
// file, the shape infsh::File reads. Other URLs are left as they are (the app may fetch them).
//
// Output: every File object whose `path` is in the task's scratch directory (where
// AppContext::output_directory() points) is moved into the file store, and a File object
// naming a stored file's bytes is recognised; both are replaced by the file's uri, a string,
// as the hosted platform answers. Paths anywhere else pass through untouched: the runtime never
// publishes a file just because a task's output names it (an echo of client input could name
// any file on the machine).

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base_url.hpp"
#include "file_store.hpp"

namespace infsh::local {

/// A file in a task's input or output cannot be used; the message names the field
/// ("input.image: ...").
class TaskFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Refuses a client's value that would make an app open a file of the runtime's machine.
/// `locations`: where Files can be (JSON pointers with `*`, as for resolve_input); there a File
/// is a string (a uri) or an object, and a string without a URI scheme (a path), a `file:` URI,
/// an object's `path`, and an object's `uri` that is a path or `file:` URI are refused. nullopt:
/// Files can be anywhere, as File objects (nothing but the keys uri, path, content_type, size,
/// filename); every such object is checked, strings are not Files there. `root` names the value
/// in messages ("input", "setup"). Throws TaskFileError naming the field
/// ("input.file.path: ...").
void check_client_files(const nlohmann::json& value, const std::string& root,
                        const std::optional<std::vector<std::string>>& locations);

/// True for an object with nothing but the keys of a File (uri, path, content_type, size,
/// filename) and a non-empty string at `required` ("path" or "uri").
bool is_file_object(const nlohmann::json& value, const char* required);

class TaskFiles {
 public:
  TaskFiles(FileStore& store, const BaseUrl& base_url, std::filesystem::path work_dir);

  /// The task's scratch directory (not created).
  std::filesystem::path scratch_dir(const std::string& task_id) const;
  /// Where the task's app writes output files: created on first use.
  std::filesystem::path output_dir(const std::string& task_id) const;

  /// The input as the app sees it (see above). `locations`: where Files can be, as JSON
  /// pointers with `*` for any array item or map key ("/image", "/images/*"); nullopt:
  /// anywhere. Throws TaskFileError for a client's local path (check_client_files), a malformed
  /// data URI, or a uri of this runtime that names no file or a file without content.
  nlohmann::json resolve_input(
      const nlohmann::json& input, const std::string& task_id,
      const std::optional<std::vector<std::string>>& locations = std::nullopt) const;

  /// The output as clients see it (see above). Throws TaskFileError when storing fails.
  nlohmann::json store_output(const nlohmann::json& output, const std::string& task_id) const;

  /// Removes the task's scratch directory and what is left in it.
  void cleanup(const std::string& task_id) const noexcept;

 private:
  FileStore& store_;
  const BaseUrl& base_url_;
  std::filesystem::path work_dir_;
};

}  // namespace infsh::local
