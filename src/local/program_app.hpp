#pragma once

// App programs hosted by the runtime (`infsh-local --app NAME=PATH`): an App whose warm
// instances are worker processes (`PATH worker`, docs/worker-protocol.md), one per instance.
//
// setup() starts a process, waits for its `ready` (start-up timeout) and sends `setup`; run()
// sends `run` and turns what comes back into the task's logs (the worker's `log` messages and
// its stderr), progress, partial outputs and result. Cancelling sends `cancel` at once (the
// context's on_cancel wakes the waiting thread); a worker that has not answered after the grace
// period is killed. A crash, a kill or a broken protocol makes the instance unusable, so the
// runtime drops it and the next task starts a fresh process; a session holding it is lost
// (lost_reason() says why), and so is one whose process is found dead while idle. Output files
// (the `files` of `partial` and `result`) are copied into the task's output directory, where the
// runtime stores them and hands out their uris.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/local/app.hpp"
#include "logger.hpp"

namespace infsh::local {

struct ProgramAppOptions {
  std::string name;     ///< "namespace/name"
  std::string program;  ///< absolute path of the executable
  std::chrono::milliseconds start_timeout{10000};
  std::chrono::milliseconds cancel_grace{5000};
  std::chrono::milliseconds task_timeout{0};  ///< zero: none
  /// How long a dropped instance's process may take to exit after `shutdown`.
  std::chrono::milliseconds stop_grace{2000};
  /// FILE_CACHE_DIR of the workers, unless the runtime's environment sets one.
  std::filesystem::path file_cache_dir;
};

/// Throws std::invalid_argument unless `name` is "namespace/name" (letters, digits, '.', '_',
/// '-' on each side of one '/').
void check_app_name(const std::string& name);

class ProgramApp final : public App {
 public:
  ProgramApp(ProgramAppOptions options, const Logger& log);
  ~ProgramApp() override;
  ProgramApp(const ProgramApp&) = delete;
  ProgramApp& operator=(const ProgramApp&) = delete;

  /// Starts the program once to read its `ready` (functions, schemas), then stops it. Throws
  /// std::runtime_error naming the app and the program, with what went wrong and the end of
  /// its stderr.
  void probe();

  /// The functions of the latest `ready`, the default first.
  std::vector<std::string> functions() const override;
  /// Where the latest `ready` says Files are (input_files, setup_files).
  std::optional<std::vector<std::string>> input_files(const std::string& function) const override;
  std::optional<std::vector<std::string>> setup_files() const override;
  std::unique_ptr<AppInstance> setup(const nlohmann::json& setup, AppContext& context) override;

  /// Sends `shutdown` to every worker process of this app, waits up to `grace` for them to
  /// exit, and kills (SIGKILL) the rest. Instances keep their (ended) processes.
  void stop_workers(std::chrono::milliseconds grace);

  /// Worker processes alive now.
  std::size_t process_count() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace infsh::local
