#pragma once

// infsh::Context: what a running setup or function can see (metadata, whether it was
// cancelled) and do (log, report progress, emit partial outputs).
//
//   Output run(const Input& in, infsh::Context& ctx) {
//     for (int step = 0; step < in.steps; ++step) {
//       ctx.throw_if_cancelled();
//       ctx.progress(step, in.steps, "denoising");
//     }
//     ctx.log("done");
//     ...
//   }

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/log_level.hpp"
#include "infsh/model.hpp"

namespace infsh {

/// Who runs the app: read from the environment (APP_ID, APP_VERSION_ID, APP_VARIANT,
/// WORKER_ID), then updated from each run request's metadata.
struct Metadata {
  std::string app_id;
  std::string app_version_id;
  std::string app_variant;
  std::string worker_id;
  nlohmann::json extra = nlohmann::json::object();  ///< other keys, e.g. "session_id"

  /// The metadata the environment gives.
  static Metadata from_environment();
  /// Merges `values` (an object): known keys replace fields, others go to `extra`.
  void update(const nlohmann::json& values);
  /// All fields as one object (empty strings left out).
  nlohmann::json to_json() const;
};

/// Severity of a log line: the SDK's one LogLevel (see inferencesh/log_level.hpp).
using LogLevel = inferencesh::LogLevel;
using inferencesh::to_string;

/// An output as the library hands it on: its JSON, and JSON pointers to the Files in it that
/// have a local path (the runtime stores those and turns them into URIs).
struct EncodedOutput {
  nlohmann::ordered_json json;
  std::vector<std::string> files;
};

namespace detail {

/// A context's cancellation: the SDK's one cancellation state, defined in the library.
struct CancellationState;

/// Makes an output File ready to leave the app: absolute path, existing file, metadata filled
/// in. Throws FileError naming `where` when the file does not exist.
void complete_output_file(File& file, const Location& where);

/// Encodes an output, completing its Files and listing them.
template <class T>
EncodedOutput encode_output(const T& value) {
  T copy = value;
  EncodedOutput result;
  for_each_file(
      copy,
      [&result](File& file, const Location& where) {
        if (file.path.empty()) return;  // a File that is only a URI passes through
        complete_output_file(file, where);
        result.files.push_back(where.pointer());
      },
      Location("output"));
  result.json = encode(copy);
  return result;
}

}  // namespace detail

/// The context of one setup or run. The library creates it; app code gets it by reference,
/// valid for that call only. cancel_requested(), wait_for() and throw_if_cancelled() may be
/// used from any thread; log(), progress() and partial() from the thread running the call or
/// threads it waits for.
class Context {
 public:
  /// Where a context sends what the app reports. Members may be empty (nothing is sent).
  struct Sink {
    std::function<void(LogLevel, const std::string&)> log;
    std::function<void(double current, double total, const std::string& message)> progress;
    std::function<void(const EncodedOutput&)> partial;
  };

  Context(std::string task_id, std::string function, Metadata metadata, Sink sink);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// The task being run; empty in one-shot runs without one.
  const std::string& task_id() const noexcept { return task_id_; }
  /// The function being run ("run", ...), or "setup" during setup.
  const std::string& function() const noexcept { return function_; }
  /// App id, worker id, session id, ...
  const Metadata& metadata() const noexcept { return metadata_; }

  /// True once the task was cancelled (set from another thread). Return soon after; what a
  /// cancelled run returns is discarded.
  bool cancel_requested() const noexcept;
  /// Throws CancelledError when cancel_requested().
  void throw_if_cancelled() const;
  /// Sleeps for `duration` unless cancelled first; returns false when cancelled.
  bool wait_for(std::chrono::milliseconds duration) const;
  /// Marks the task cancelled and wakes wait_for(). Used by the library; safe from any thread.
  void request_cancel() noexcept;

  /// Adds a line to the task's logs.
  void log(std::string_view message) const { log(LogLevel::info, message); }
  /// Adds a line at `level`; a line at LogLevel::off is dropped.
  void log(LogLevel level, std::string_view message) const;

  /// Reports progress: `current` of `total` steps, with an optional message.
  void progress(double current, double total, std::string_view message = {}) const;

  /// Emits an intermediate output: the task's current output until the next one or the
  /// result. Like the platform's streaming apps, each one is a full snapshot, not a delta.
  template <class Output>
  void partial(const Output& output) const {
    if (sink_.partial) sink_.partial(detail::encode_output(output));
  }

 private:
  std::string task_id_;
  std::string function_;
  Metadata metadata_;
  Sink sink_;
  std::unique_ptr<detail::CancellationState> cancel_;
};

}  // namespace infsh
