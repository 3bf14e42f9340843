// How Files cross the app's boundary: input Files are made local before the app sees them,
// output Files are completed before they leave.

#include "infsh/base_app.hpp"
#include "infsh/context.hpp"

namespace infsh::detail {

void resolve_input_file(File& file, const FileResolveOptions& options) {
  if (!file.path.empty()) {
    // A path given by the caller (the runtime passes files it already resolved) must exist.
    file.resolve(options);
    if (!file.exists()) throw FileError("file not found: " + file.path);
    return;
  }
  file.resolve(options);
}

void complete_output_file(File& file, const Location& where) {
  file.resolve();
  if (!file.exists()) {
    throw FileError(where.path() + ": the output file " + file.path + " does not exist");
  }
  file.fill_missing_metadata();
}

}  // namespace infsh::detail
