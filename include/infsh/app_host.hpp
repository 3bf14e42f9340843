#pragma once

// infsh::AppHost: one warm instance of an app, driven in-process. The program's `run` and
// `worker` commands are built on it; so can anything else that wants to run an app without a
// process boundary.
//
//   infsh::AppHost host(infsh::define_app<Hello>());
//   auto outcome = host.run({.function = "run", .input = {{"name", "Ada"}}}, {});
//   if (outcome.status == infsh::RunOutcome::Status::completed) use(outcome.output.json);

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/app_definition.hpp"
#include "infsh/context.hpp"
#include "infsh/errors.hpp"
#include "infsh/file.hpp"

namespace infsh {

/// How a setup or run ended.
struct RunOutcome {
  enum class Status { completed, failed, cancelled };

  Status status = Status::completed;
  /// The output (runs that completed).
  EncodedOutput output;
  /// Why it failed: "invalid_input", "invalid_setup", "unknown_function", "setup_failed",
  /// "app_error", "invalid_output"; "cancelled" when cancelled.
  std::string error_kind;
  /// The message of the failure (for invalid input: every issue, "path: rule; ...").
  std::string error;
  /// The issues of an invalid input or setup.
  std::vector<ValidationIssue> issues;

  bool ok() const noexcept { return status == Status::completed; }
};

/// One run request.
struct RunRequest {
  std::string task_id;
  std::string function;  ///< empty: the app's default function
  nlohmann::json input = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();  ///< merged over the environment's
};

/// One warm app instance. setup() and run() are called from one thread at a time; cancel() may
/// be called from any thread while they run.
class AppHost {
 public:
  explicit AppHost(AppDefinition definition, FileResolveOptions files = {});
  /// Unloads the instance.
  ~AppHost();
  AppHost(const AppHost&) = delete;
  AppHost& operator=(const AppHost&) = delete;

  const AppDefinition& definition() const noexcept { return definition_; }

  /// Makes a fresh instance (unloading the current one) and runs its setup with `setup`
  /// (null: the setup model's defaults). On failure no instance is kept.
  RunOutcome setup(const nlohmann::json& setup, const Context::Sink& sink,
                   const std::string& task_id = {});

  /// True when an instance was set up successfully.
  bool is_set_up() const;

  /// Runs a function; sets up with null first when no instance exists.
  RunOutcome run(const RunRequest& request, const Context::Sink& sink);

  /// Cancels the current setup or run when `task_id` is empty or is its task id: sets its
  /// context's flag, then (during a run) calls the instance's on_cancel(). Returns whether
  /// something was cancelled. A task id that is not running yet is remembered, so the next
  /// setup or run with that id starts cancelled (a cancel may overtake its run). Safe from any
  /// thread.
  bool cancel(const std::string& task_id = {});

  /// Calls unload() on the instance and drops it. Idempotent.
  void unload();

 private:
  struct Active;
  class ActiveScope;

  AppDefinition definition_;
  FileResolveOptions files_;
  Metadata base_metadata_;
  mutable std::mutex mutex_;  // guards instance_ replacement and active_
  std::unique_ptr<BaseApp> instance_;
  Active* active_ = nullptr;
  std::string pending_cancel_;  // a task id cancelled before it started
};

}  // namespace infsh
