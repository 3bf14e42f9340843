#pragma once

// Apps as the local runtime hosts them: an App is a factory of warm instances, one per distinct
// setup value; an instance runs tasks, one at a time, on a worker thread.
//
//   class Shout : public infsh::local::App {
//     std::unique_ptr<infsh::local::AppInstance> setup(const nlohmann::json&,
//                                                     infsh::local::AppContext&) override;
//   };
//   runtime.apps().add("me/shout", std::make_shared<Shout>());

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// What a running setup or task may do: report logs, progress and partial output, and notice
/// that it was cancelled. Given to app code on a worker thread; valid for that call only.
class AppContext {
 public:
  virtual ~AppContext() = default;

  /// The id of the task this call belongs to.
  virtual const std::string& task_id() const noexcept = 0;

  /// True once the task was asked to stop (cancel, or the runtime shutting down). Apps should
  /// return soon after; what they return then is discarded.
  virtual bool cancelled() const noexcept = 0;

  /// Sleeps for `duration`, waking early when the task is cancelled. Returns false when it was
  /// cancelled (before or during the wait), true when the full time passed.
  virtual bool wait_for(std::chrono::milliseconds duration) = 0;

  /// Calls `callback` once when the task is cancelled (at once, on this thread, if it already
  /// is), so code blocked elsewhere than in wait_for() can be woken. It runs on the thread that
  /// cancels, under the runtime's locks: it must be quick and must not block or call back into
  /// the context (set a flag, write to an eventfd, notify a condition variable). A later call
  /// replaces the callback; it is dropped when this call of the app ends.
  virtual void on_cancel(std::function<void()> callback) = 0;

  /// The session this task runs in ("sess_..."), or empty when it runs in none.
  virtual std::string session_id() const { return {}; }

  /// Appends a line to the task's logs (a TaskLog of type "task"); streamed to watchers at once.
  virtual void log(std::string_view line) = 0;

  /// Replaces the task's current output with a partial result; streamed to watchers at once.
  /// Output files in it are stored as for the final output (see output_directory()).
  virtual void partial_output(nlohmann::json output) = 0;

  /// Reports progress: `current` of `total` steps, with an optional message. The runtime shows
  /// the latest report in the task's `metadata.progress` ({current, total, message}) and adds
  /// a log line ("progress 3/10: denoising"). The default only adds the log line.
  virtual void progress(double current, double total, std::string_view message);

  /// A directory of this task's own for the files it writes; created on first call, removed
  /// when the task ends. Return an output file as a File object {"path": "<in here>", ...}
  /// (content_type and filename optional): the runtime stores it, and clients get its uri in
  /// its place. Input files arrive the same way: File objects (nothing but the keys uri, path,
  /// content_type, size, filename) whose `path` is a local file the runtime put there; a client
  /// cannot send a `path` (its task is refused), so only such objects are files to open. Treat
  /// a string as a uri, never as a local path.
  virtual std::filesystem::path output_directory() = 0;
};

/// One warm instance of an app, built for one setup value. The runtime runs one task at a time
/// on an instance and keeps it for later tasks with an equal setup.
class AppInstance {
 public:
  virtual ~AppInstance() = default;

  /// Runs `function` (e.g. "run") on an input the App already validated and returns the output.
  /// Throw to fail the task: the exception's what() becomes the task's error text.
  virtual nlohmann::json run(const std::string& function, const nlohmann::json& input,
                             AppContext& context) = 0;

  /// Where Files can appear in the input of `function`, as JSON pointers with `*` for any
  /// array item or map key ("/image", "/images/*"). The runtime turns the uris of its own
  /// files and data: URIs found there into File objects with a local `path` before run().
  /// nullopt (the default): it looks for them anywhere in the input.
  virtual std::optional<std::vector<std::string>> input_files(const std::string& function) const {
    (void)function;
    return std::nullopt;
  }

  /// False once the instance cannot take another task (say, the process behind it died or was
  /// killed): the runtime then drops it instead of keeping it warm. A session whose instance
  /// is dropped is lost (its state went with the instance): it ends, and its calls fail.
  virtual bool reusable() const noexcept { return true; }

  /// Why reusable() turned false, in a few words for the session's error ("the app process was
  /// killed by signal 11 (Segmentation fault) while running the task"); empty when unknown.
  virtual std::string lost_reason() const { return {}; }
};

/// The input or setup of a run request does not fit the app. Names the offending field
/// (e.g. "input.steps") so the caller gets a 422 that says what to fix.
class InvalidInputError : public std::invalid_argument {
 public:
  InvalidInputError(std::string field, const std::string& message)
      : std::invalid_argument(message), field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

/// An app: validates requests cheaply, and builds warm instances for a setup value.
class App {
 public:
  virtual ~App() = default;

  /// The functions this app offers; the first is the default. Most apps have just "run".
  virtual std::vector<std::string> functions() const { return {"run"}; }

  /// Where Files can appear in the input of `function`, as AppInstance::input_files says, but
  /// known before any instance exists: the runtime refuses a task whose input names a local
  /// file there (a string path, a `file:` URI, an object's `path`) when it is created. nullopt
  /// (the default): anywhere, as File objects.
  virtual std::optional<std::vector<std::string>> input_files(const std::string& function) const {
    (void)function;
    return std::nullopt;
  }

  /// Where Files can appear in the setup value, in the same form; nullopt (the default):
  /// anywhere, as File objects.
  virtual std::optional<std::vector<std::string>> setup_files() const { return std::nullopt; }

  /// Checks a run request before a task is created; throws InvalidInputError naming the field.
  /// Runs on the runtime's event loop, so it must be quick and must not block.
  virtual void validate(const std::string& function, const nlohmann::json& input,
                        const nlohmann::json& setup) const {
    (void)function;
    (void)input;
    (void)setup;
  }

  /// Builds a warm instance for `setup` (null when the request had none). Runs on a worker
  /// thread while the task shows status setting_up; throw to fail the task.
  virtual std::unique_ptr<AppInstance> setup(const nlohmann::json& setup, AppContext& context) = 0;
};

/// The apps a runtime serves, by name ("namespace/name"). Safe to use from several threads; apps
/// added while the runtime serves are visible to the next request.
class AppRegistry {
 public:
  AppRegistry();
  ~AppRegistry();
  AppRegistry(const AppRegistry&) = delete;
  AppRegistry& operator=(const AppRegistry&) = delete;

  /// Adds or replaces the app called `name` (e.g. "me/shout", no version or function).
  void add(const std::string& name, std::shared_ptr<App> app);

  /// The app called `name`, or nullptr.
  std::shared_ptr<App> find(const std::string& name) const;

  /// The names of all apps, sorted.
  std::vector<std::string> names() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Adds the built-in apps: the demo apps infsh/echo, infsh/progress, infsh/fail,
/// infsh/setup-counter, infsh/counter, infsh/file-info, stand-ins for two platform apps the
/// official SDKs' integration suites call, infsh/text-templating and infsh/session-test, and the
/// scripted core for agents, infsh/scripted-llm.
void add_demo_apps(AppRegistry& registry);

}  // namespace infsh::local
