#include "apps/program_app.hpp"

#include <unistd.h>  // environ

#include <algorithm>
#include <array>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include "apps/worker_messages.hpp"
#include "apps/worker_process.hpp"
#include "common/json_fields.hpp"
#include "infsh/local/app_program.hpp"
#include "support/id_generator.hpp"
#include "tasks/task_files.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = WorkerProcess::Clock;

namespace {

// How long a request line may take to be written: a worker reads its input on a thread of its
// own, so only a stuck or dying one takes this long.
constexpr auto kRequestWriteTimeout = std::chrono::seconds(30);
constexpr auto kControlWriteTimeout = std::chrono::seconds(1);
// After SIGKILL, the time the process gets to be gone (it cannot refuse; this only bounds a
// process stuck in the kernel).
constexpr auto kKillWait = std::chrono::seconds(5);

// "300 ms", "5 s", "1.5 s".
std::string duration_text(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.3g s", static_cast<double>(ms) / 1000.0);
  return text.data();
}

bool name_part_ok(std::string_view part) {
  if (part.empty() || part.size() > 100) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// "/images/0" → "output.images.0" (for messages).
std::string field_name(const std::string& pointer) {
  std::string name = "output" + pointer;
  std::replace(name.begin() + 6, name.end(), '/', '.');
  return name;
}

// The context of the start-up check: nothing to report to, nothing to cancel.
class ProbeContext final : public AppContext {
 public:
  const std::string& task_id() const noexcept override { return id_; }
  bool cancelled() const noexcept override { return false; }
  bool wait_for(std::chrono::milliseconds duration) override {
    std::this_thread::sleep_for(duration);
    return true;
  }
  void on_cancel(std::function<void()>) override {}
  void log(std::string_view) override {}  // the end of stderr goes into a failure's message
  void partial_output(json) override {}
  fs::path output_directory() override {
    throw std::logic_error("no output directory while starting the app program");
  }

 private:
  std::string id_;
};

}  // namespace

void check_app_name(const std::string& name) {
  const auto slash = name.find('/');
  if (slash == std::string::npos || !name_part_ok(std::string_view(name).substr(0, slash)) ||
      !name_part_ok(std::string_view(name).substr(slash + 1))) {
    throw std::invalid_argument("the name '" + name +
                                "' is not NAMESPACE/NAME (letters, digits, '.', '_' and '-' on "
                                "each side of one '/')");
  }
}

AppProgram parse_app_program(std::string_view spec) {
  const auto equals = spec.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == spec.size()) {
    throw std::invalid_argument("'" + std::string(spec) +
                                "' is not NAMESPACE/NAME=PATH (e.g. me/hello=./build/hello)");
  }
  return {std::string(spec.substr(0, equals)), std::string(spec.substr(equals + 1))};
}

// ---- what the app and its instances share ------------------------------------------------------

struct ProgramApp::Shared {
  Shared(ProgramAppOptions options_, const Logger& log_)
      : options(std::move(options_)), log(log_) {}

  ProgramAppOptions options;
  const Logger& log;

  mutable std::mutex mutex;
  WorkerReady ready;  // the latest worker's
  std::vector<std::weak_ptr<WorkerProcess>> workers;

  std::vector<std::string> environment(const std::string& worker_id) const {
    std::vector<std::string> entries;
    bool has_cache = false;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      const std::string_view text(*entry);
      if (text.rfind("APP_ID=", 0) == 0 || text.rfind("WORKER_ID=", 0) == 0) continue;
      if (text.rfind("FILE_CACHE_DIR=", 0) == 0 && text.size() > 15) has_cache = true;
      entries.emplace_back(text);
    }
    entries.push_back("APP_ID=" + options.name);
    entries.push_back("WORKER_ID=" + worker_id);
    if (!has_cache && !options.file_cache_dir.empty()) {
      entries.push_back("FILE_CACHE_DIR=" + options.file_cache_dir.string());
    }
    return entries;
  }

  std::shared_ptr<WorkerProcess> spawn(const std::string& worker_id) {
    WorkerProcess::Options process;
    process.program = options.program;
    process.arguments = {"worker"};
    process.environment = environment(worker_id);
    process.on_idle_output = [&log = log, prefix = options.name + " " + worker_id + ": "](
                                 const std::string& line) { log.info(prefix + line); };
    auto worker = std::make_shared<WorkerProcess>(std::move(process));
    std::lock_guard lock(mutex);
    workers.erase(std::remove_if(workers.begin(), workers.end(),
                                 [](const auto& weak) { return weak.expired(); }),
                  workers.end());
    workers.push_back(worker);
    return worker;
  }

  void remember(const WorkerReady& latest) {
    std::lock_guard lock(mutex);
    ready = latest;
  }
};

// ---- one warm instance: one worker process
// -------------------------------------------------------

namespace {

class ProgramInstance final : public AppInstance {
 public:
  ProgramInstance(std::shared_ptr<ProgramApp::Shared> shared, json setup)
      : shared_(std::move(shared)), setup_(std::move(setup)) {}
  ~ProgramInstance() override { stop(); }
  ProgramInstance(const ProgramInstance&) = delete;
  ProgramInstance& operator=(const ProgramInstance&) = delete;

  // Starts a worker process and reads its `ready`. Throws when it cannot.
  void launch(AppContext& context) {
    usable_ = true;
    lost_reason_.clear();
    worker_id_ = new_id("worker");
    worker_ = shared_->spawn(worker_id_);
    Detach detach(*this);
    const json ready = converse(Phase::start, nullptr, context);
    try {
      ready_ = parse_ready(ready);
    } catch (const std::exception& e) {
      end_process("the app process is not a usable worker");
      throw std::runtime_error(std::string("the app process is not a usable worker: ") + e.what() +
                               stderr_tail_text());
    }
    shared_->remember(ready_);
  }

  // launch(), then `setup`. Throws when either fails.
  void start(AppContext& context) {
    launch(context);
    // The worker would open a local path given where its setup takes a File.
    check_client_files(setup_, "setup", ready_.setup_files);
    Detach detach(*this);
    const json request = setup_request(context.task_id(), setup_);
    const json answer = converse(Phase::setup, &request, context);
    if (common::string_field_or(answer, "type") != "setup_done") {
      usable_ = false;  // the worker has no app instance now
      if (common::string_field_or(answer, "kind") == "cancelled") {
        throw std::runtime_error("setup cancelled");
      }
      throw std::runtime_error(error_text(answer));
    }
  }

  json run(const std::string& function, const json& input, AppContext& context) override {
    if (!worker_ || worker_->exited()) {
      const std::string how = worker_ ? worker_->exit_description() : "was stopped";
      if (!context.session_id().empty()) {
        // The session's state was in that process: a fresh one would silently lack it.
        end_process("the app process " + how + " while idle");
        throw std::runtime_error("the app process " + how +
                                 " while idle, and the session's state with it");
      }
      context.log("the app process " + how + " while idle; starting a new one");
      shared_->log.warning(shared_->options.name + ": the app process " + how +
                           " while idle; starting a new one");
      start(context);
    }
    Detach detach(*this);
    worker_->forget_stderr();  // a failure's message quotes what this run wrote
    json metadata = {{"app_id", shared_->options.name}, {"worker_id", worker_id_}};
    if (const std::string session = context.session_id(); !session.empty()) {
      metadata["session_id"] = session;
    }
    const json request = run_request(context.task_id(), function, input, metadata);
    const json answer = converse(Phase::run, &request, context);
    if (common::string_field_or(answer, "type") == "result") {
      return take_output_files(answer.value("output", json()), answer.value("files", json::array()),
                               context);
    }
    if (common::string_field_or(answer, "kind") == "cancelled") {
      throw std::runtime_error("run cancelled");
    }
    throw std::runtime_error(error_text(answer));
  }

  std::optional<std::vector<std::string>> input_files(const std::string& function) const override {
    const auto it = ready_.input_files.find(function);
    if (it == ready_.input_files.end()) return std::vector<std::string>{};
    return it->second;
  }

  bool reusable() const noexcept override { return usable_; }
  std::string lost_reason() const override { return lost_reason_; }

 private:
  enum class Phase { start, setup, run };

  // Detaches the worker (stderr to the runtime's log) when an exchange is over.
  struct Detach {
    explicit Detach(ProgramInstance& instance) : instance_(instance) {}
    ~Detach() {
      if (instance_.worker_) instance_.worker_->attach(false);
    }
    Detach(const Detach&) = delete;
    Detach& operator=(const Detach&) = delete;
    ProgramInstance& instance_;
  };

  // Sends `request` (none: waits for `ready`) and handles what the worker reports until its
  // answer, which it returns. Throws when the worker crashes, or is killed (grace period after
  // a cancel, timeouts); the instance is unusable then.
  json converse(Phase phase, const json* request, AppContext& context) {
    WorkerProcess& worker = *worker_;
    const ProgramAppOptions& options = shared_->options;
    worker.attach(true);
    const std::string& task_id = context.task_id();
    try {
      if (request != nullptr && !worker.send(*request, Clock::now() + kRequestWriteTimeout)) {
        end_process("the app process did not take the " +
                    common::string_field_or(*request, "type") + " request");
        throw std::runtime_error("the app process did not take the " +
                                 common::string_field_or(*request, "type") + " request" +
                                 crash_details());
      }
      const auto limit = phase == Phase::start ? options.start_timeout : options.task_timeout;
      const auto give_up = limit.count() > 0 ? Clock::now() + limit : Clock::time_point::max();
      auto grace_end = Clock::time_point::max();  // set once a cancel was sent
      bool cancel_sent = false;
      context.on_cancel([target = worker_] { target->interrupt(); });
      for (;;) {
        auto event = worker.next(std::min(give_up, grace_end));
        switch (event.kind) {
          case WorkerProcess::Event::Kind::interrupted:
            if (cancel_sent) break;
            cancel_sent = true;
            if (phase == Phase::start) {
              const std::string why = "cancelled while the app process was starting";
              end_process(why);
              throw std::runtime_error(why);
            }
            worker.send(cancel_request(task_id), Clock::now() + kControlWriteTimeout);
            grace_end = Clock::now() + options.cancel_grace;
            break;
          case WorkerProcess::Event::Kind::timed_out:
            if (Clock::now() >= grace_end) {
              const std::string why =
                  "cancelled; the app did not stop within the grace period of " +
                  duration_text(options.cancel_grace) + ", so its process was killed";
              end_process(why);
              throw std::runtime_error(why);
            }
            if (Clock::now() >= give_up) {
              if (phase == Phase::start) {
                const std::string why =
                    "the app process did not announce itself ('ready') within " +
                    duration_text(limit);
                end_process(why);
                throw std::runtime_error(why + stderr_tail_text());
              }
              const std::string why =
                  "the task exceeded the task timeout of " + duration_text(limit) +
                  (phase == Phase::setup ? " during setup" : "") + "; its app process was killed";
              end_process(why);
              throw std::runtime_error(why);
            }
            break;
          case WorkerProcess::Event::Kind::output:
            context.log(event.line);
            break;
          case WorkerProcess::Event::Kind::exited: {
            const std::string why = "the app process " + event.line +
                                    (phase == Phase::start   ? " before it was ready"
                                     : phase == Phase::setup ? " during setup"
                                                             : " while running the task");
            lose(why);
            throw std::runtime_error(why + stderr_tail_text());
          }
          case WorkerProcess::Event::Kind::message:
            if (auto answer = handle(phase, task_id, std::move(event.message), context)) {
              return std::move(*answer);
            }
            break;
        }
      }
    } catch (const std::exception& e) {
      // Whatever went wrong mid-request (an output file that cannot be stored, ...), the
      // worker is still busy with it: it cannot be trusted with another.
      if (usable_) {
        end_process(std::string("its app process was stopped after an error: ") + e.what());
      }
      throw;
    } catch (...) {
      if (usable_) end_process("its app process was stopped after an unknown error");
      throw;
    }
  }

  // A message during an exchange: reported to the context, or returned when it is the answer.
  std::optional<json> handle(Phase phase, const std::string& task_id, json message,
                             AppContext& context) {
    const std::string type = common::string_field_or(message, "type");
    if (phase == Phase::start) return message;  // the first message; parse_ready() judges it
    const std::string id = message_task_id(message);
    const bool ours = id == task_id || id.empty();
    const bool answer =
        (phase == Phase::setup && ours && (type == "setup_done" || type == "setup_error")) ||
        (phase == Phase::run && id == task_id && (type == "result" || type == "error")) ||
        (type == "error" && id.empty());  // the worker could not read our request ("protocol")
    if (type == "log") {
      if (ours) context.log(log_line(message));
    } else if (type == "progress") {
      if (ours) {
        context.progress(common::number_field_or(message, "current"),
                         common::number_field_or(message, "total"),
                         common::string_field_or(message, "message"));
      }
    } else if (type == "partial") {
      if (phase == Phase::run && id == task_id) {
        context.partial_output(take_output_files(message.value("output", json()),
                                                 message.value("files", json::array()), context));
      }
    } else if (answer) {
      return message;
    } else if (shared_->log.enabled(LogLevel::debug)) {
      shared_->log.debug(shared_->options.name + ": ignored a '" + type + "' message for task '" +
                         id + "'");
    }
    return std::nullopt;
  }

  // Copies the output files the worker listed into the task's output directory, where the
  // runtime stores them: the app may delete or reuse its own files once it answered.
  json take_output_files(json output, const json& files, AppContext& context) {
    if (!files.is_array()) return output;
    for (const auto& item : files) {
      if (!item.is_string()) continue;
      const std::string pointer = item.get<std::string>();
      json* file = nullptr;
      try {
        const json::json_pointer where(pointer);
        if (output.contains(where)) file = &output.at(where);
      } catch (const json::exception&) {
        continue;  // not a pointer into this output: nothing to take
      }
      if (file == nullptr || !file->is_object()) continue;
      const fs::path source = common::string_field_or(*file, "path");
      if (source.empty()) continue;
      std::string name = common::string_field_or(*file, "filename");
      if (name.empty()) name = source.filename().string();
      std::replace(name.begin(), name.end(), '/', '_');
      if (name.empty() || name == "." || name == "..") name = "file";
      const fs::path target =
          context.output_directory() / (std::to_string(++output_files_) + "-" + name);
      std::error_code error;
      fs::copy_file(source, target, fs::copy_options::overwrite_existing, error);
      if (error) {
        throw std::runtime_error(field_name(pointer) + ": cannot take the output file " +
                                 source.string() + ": " + error.message());
      }
      (*file)["path"] = target.string();
      (*file)["filename"] = name;
    }
    return output;
  }

  // Marks the instance of no use; `why` (the first one given) is its lost_reason().
  void lose(std::string why) noexcept {
    usable_ = false;
    if (lost_reason_.empty()) lost_reason_ = std::move(why);
  }

  // Kills the process and waits until it is gone; the instance is lost.
  void end_process(std::string why) noexcept {
    lose(std::move(why));
    if (!worker_) return;
    worker_->kill();
    worker_->wait_exit(Clock::now() + kKillWait);
  }

  // How the process ended, when it did, and the end of its stderr.
  std::string crash_details() const {
    std::string details;
    if (worker_ && worker_->exited()) details = " (it " + worker_->exit_description() + ")";
    return details + stderr_tail_text();
  }

  std::string stderr_tail_text() const {
    if (!worker_) return {};
    const auto tail = worker_->stderr_tail();
    if (tail.empty()) return {};
    std::string text = ". The last lines of its stderr:";
    for (const auto& line : tail) text += "\n  " + line;
    return text;
  }

  // `shutdown`, then SIGKILL when it does not exit in time.
  void stop() noexcept {
    if (!worker_) return;
    try {
      if (!worker_->exited()) {
        worker_->attach(false);
        worker_->send(shutdown_request(), Clock::now() + kControlWriteTimeout);
        if (!worker_->wait_exit(Clock::now() + shared_->options.stop_grace)) {
          shared_->log.warning(shared_->options.name + ": the app process " + worker_id_ +
                               " did not exit after 'shutdown'; killing it");
          end_process("the app process did not exit after 'shutdown'");
        }
      }
    } catch (const std::exception& e) {
      shared_->log.error(shared_->options.name + ": stopping an app process failed: " + e.what());
      end_process(std::string("stopping the app process failed: ") + e.what());
    }
    worker_.reset();
  }

  std::shared_ptr<ProgramApp::Shared> shared_;
  json setup_;
  std::string worker_id_;
  std::shared_ptr<WorkerProcess> worker_;
  WorkerReady ready_;
  bool usable_ = true;
  std::string lost_reason_;  // why usable_ turned false
  std::size_t output_files_ = 0;
};

}  // namespace

// ---- ProgramApp -------------------------------------------------------------------------------

ProgramApp::ProgramApp(ProgramAppOptions options, const Logger& log)
    : shared_(std::make_shared<Shared>(std::move(options), log)) {}

ProgramApp::~ProgramApp() = default;

void ProgramApp::probe() {
  const auto& options = shared_->options;
  try {
    ProbeContext context;
    ProgramInstance instance(shared_, json());
    instance.launch(context);
  } catch (const std::exception& e) {
    throw std::runtime_error("app program '" + options.name + "' (" + options.program +
                             "): " + e.what());
  }
}

std::vector<std::string> ProgramApp::functions() const {
  std::lock_guard lock(shared_->mutex);
  if (shared_->ready.functions.empty()) return {"run"};
  return shared_->ready.functions;
}

std::optional<std::vector<std::string>> ProgramApp::input_files(const std::string& function) const {
  std::lock_guard lock(shared_->mutex);
  const auto it = shared_->ready.input_files.find(function);
  if (it == shared_->ready.input_files.end()) return std::vector<std::string>{};
  return it->second;
}

std::optional<std::vector<std::string>> ProgramApp::setup_files() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->ready.setup_files;
}

std::unique_ptr<AppInstance> ProgramApp::setup(const json& setup, AppContext& context) {
  auto instance = std::make_unique<ProgramInstance>(shared_, setup);
  instance->start(context);
  return instance;
}

void ProgramApp::stop_workers(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<WorkerProcess>> live;
  {
    std::lock_guard lock(shared_->mutex);
    for (const auto& weak : shared_->workers) {
      if (auto worker = weak.lock()) live.push_back(std::move(worker));
    }
  }
  for (const auto& worker : live) {
    if (!worker->exited()) worker->send(shutdown_request(), Clock::now() + kControlWriteTimeout);
  }
  const auto deadline = Clock::now() + grace;
  for (const auto& worker : live) {
    if (!worker->wait_exit(deadline)) {
      shared_->log.warning(shared_->options.name + ": an app process (pid " +
                           std::to_string(worker->pid()) +
                           ") did not exit after 'shutdown'; killing it");
      worker->kill();
    }
  }
  for (const auto& worker : live) worker->wait_exit(Clock::now() + kKillWait);
}

std::size_t ProgramApp::process_count() const {
  std::lock_guard lock(shared_->mutex);
  return static_cast<std::size_t>(
      std::count_if(shared_->workers.begin(), shared_->workers.end(), [](const auto& weak) {
        const auto worker = weak.lock();
        return worker && !worker->exited();
      }));
}

}  // namespace infsh::local
