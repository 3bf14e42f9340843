#include "infsh/app_host.hpp"

#include "infsh/base_app.hpp"

namespace infsh {

// The setup or run in progress, visible to cancel() on other threads.
struct AppHost::Active {
  Context* context = nullptr;
  std::string task_id;
  bool is_run = false;
};

namespace {

RunOutcome failure(std::string kind, std::string message,
                   std::vector<ValidationIssue> issues = {}) {
  RunOutcome outcome;
  outcome.status = RunOutcome::Status::failed;
  outcome.error_kind = std::move(kind);
  outcome.error =
      message.empty() ? std::string("the app failed without a message") : std::move(message);
  outcome.issues = std::move(issues);
  return outcome;
}

RunOutcome cancellation() {
  RunOutcome outcome;
  outcome.status = RunOutcome::Status::cancelled;
  outcome.error_kind = "cancelled";
  outcome.error = "cancelled";
  return outcome;
}

}  // namespace

// Registers the active call for cancel() and unregisters it on scope exit. A cancel that
// arrived before the call started is applied here, under the same lock.
class AppHost::ActiveScope {
 public:
  ActiveScope(AppHost& host, Active& active) : host_(host) {
    std::lock_guard lock(host_.mutex_);
    host_.active_ = &active;
    if (!host_.pending_cancel_.empty() && host_.pending_cancel_ == active.task_id) {
      active.context->request_cancel();
    }
    host_.pending_cancel_.clear();
  }
  ~ActiveScope() {
    std::lock_guard lock(host_.mutex_);
    host_.active_ = nullptr;
  }
  ActiveScope(const ActiveScope&) = delete;
  ActiveScope& operator=(const ActiveScope&) = delete;

 private:
  AppHost& host_;
};

AppHost::AppHost(AppDefinition definition, FileResolveOptions files)
    : definition_(std::move(definition)),
      files_(std::move(files)),
      base_metadata_(Metadata::from_environment()) {}

AppHost::~AppHost() { unload(); }

bool AppHost::is_set_up() const {
  std::lock_guard lock(mutex_);
  return instance_ != nullptr;
}

RunOutcome AppHost::setup(const nlohmann::json& setup, const Context::Sink& sink,
                          const std::string& task_id) {
  unload();
  std::shared_ptr<void> decoded;
  try {
    decoded = definition_.decode_setup(setup, files_);
  } catch (const ValidationError& e) {
    return failure("invalid_setup", e.what(), e.issues());
  } catch (const std::exception& e) {
    return failure("invalid_setup", e.what());
  }

  std::unique_ptr<BaseApp> instance;
  Context context(task_id, "setup", base_metadata_, sink);
  Active active{&context, task_id, false};
  {
    ActiveScope scope(*this, active);
    try {
      instance = definition_.create();
      definition_.invoke_setup(*instance, decoded.get(), context);
    } catch (const std::exception& e) {
      if (context.cancel_requested()) return cancellation();
      return failure("setup_failed", e.what());
    } catch (...) {
      if (context.cancel_requested()) return cancellation();
      return failure("setup_failed", "setup threw an exception that is not a std::exception");
    }
  }
  if (context.cancel_requested()) {
    try {
      instance->unload();
    } catch (...) {
      // the instance is dropped either way
    }
    return cancellation();
  }
  std::lock_guard lock(mutex_);
  instance_ = std::move(instance);
  return RunOutcome{};
}

RunOutcome AppHost::run(const RunRequest& request, const Context::Sink& sink) {
  const std::string name =
      request.function.empty() ? definition_.default_function : request.function;
  const FunctionDefinition* function = definition_.find(name);
  if (function == nullptr) {
    std::string known;
    for (const auto& f : definition_.functions) known += (known.empty() ? "" : ", ") + f.name;
    return failure("unknown_function",
                   "unknown function '" + name + "' (this app has: " + known + ")");
  }
  if (!is_set_up()) {
    RunOutcome implicit = setup(nullptr, sink, request.task_id);
    if (!implicit.ok()) {
      if (implicit.status == RunOutcome::Status::failed) implicit.error_kind = "setup_failed";
      return implicit;
    }
  }

  std::shared_ptr<void> input;
  try {
    input = function->decode_input(request.input, files_);
  } catch (const ValidationError& e) {
    return failure("invalid_input", e.what(), e.issues());
  } catch (const std::exception& e) {
    return failure("invalid_input", e.what());
  }

  Metadata metadata = base_metadata_;
  metadata.update(request.metadata);
  Context context(request.task_id, function->name, std::move(metadata), sink);
  Active active{&context, request.task_id, true};
  RunOutcome outcome;
  {
    ActiveScope scope(*this, active);
    try {
      outcome.output = function->invoke(*instance_, input.get(), context);
    } catch (const std::exception& e) {
      if (context.cancel_requested()) return cancellation();
      return failure("app_error", e.what());
    } catch (...) {
      if (context.cancel_requested()) return cancellation();
      return failure("app_error", "the app threw an exception that is not a std::exception");
    }
  }
  if (context.cancel_requested()) return cancellation();
  return outcome;
}

bool AppHost::cancel(const std::string& task_id) {
  std::lock_guard lock(mutex_);
  if (active_ == nullptr || (!task_id.empty() && task_id != active_->task_id)) {
    if (!task_id.empty()) pending_cancel_ = task_id;
    return false;
  }
  active_->context->request_cancel();
  if (active_->is_run && instance_) {
    try {
      instance_->on_cancel();
    } catch (...) {
      // on_cancel is advisory; the flag is set either way
    }
  }
  return true;
}

void AppHost::unload() {
  std::unique_ptr<BaseApp> instance;
  {
    std::lock_guard lock(mutex_);
    instance = std::move(instance_);
  }
  if (!instance) return;
  try {
    instance->unload();
  } catch (...) {
    // unload runs on the way out; there is no one left to tell
  }
}

}  // namespace infsh
