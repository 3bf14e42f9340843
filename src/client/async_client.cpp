#include "inferencesh/async_client.hpp"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "async_core.hpp"
#include "async_file_transfer.hpp"
#include "async_operations.hpp"
#include "async_task_follower.hpp"
#include "inferencesh/errors.hpp"
#include "input_files.hpp"
#include "task_operations.hpp"

namespace inferencesh {

namespace detail {

AsyncCore::AsyncCore(const ClientOptions& options, const AsyncOptions& async)
    : client_(std::make_shared<const ClientCore>(options)),
      loop_(AsyncLoop::create(curl_transport_options(options), async.own_thread,
                              async.max_requests_in_flight)) {}

AsyncCore::~AsyncCore() { loop_->shutdown(); }

}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

/// Creates the task (POST /apps/run) on the loop, then follows it unless `options.wait` is false.
void create_task_on_loop(const std::shared_ptr<detail::AsyncLoop>& loop,
                         const std::shared_ptr<const detail::ClientCore>& client,
                         nlohmann::json body, const RunOptions& options, Clock::time_point started,
                         promise<Task> result) {
  detail::ApiCall call;
  try {
    if (options.deadline && Clock::now() >= started + *options.deadline) {
      throw detail::run_deadline_error(*options.deadline, "before the task was created");
    }
    call = detail::run_task_call(std::move(body), options.idempotency_key);
    if (options.deadline) call.deadline = started + *options.deadline;
  } catch (...) {
    detail::fail_from_queue(*loop, std::move(result), std::current_exception());
    return;
  }
  detail::async_call(
      loop, client, call, options.cancel,
      [loop, client, options, started, result](const std::exception_ptr& error,
                                               const detail::ApiResult& payload) mutable {
        try {
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const CancelledError&) {
              throw;
            } catch (const ConnectionError&) {
              if (options.deadline && Clock::now() >= started + *options.deadline) {
                throw detail::run_deadline_error(
                    *options.deadline, "while the task was being created (it may have been)");
              }
              throw;
            }
          }
          Task created = detail::task_from_payload(payload.data, "POST /apps/run");
          if (!options.wait) {
            result.set_value(std::move(created));
            return;
          }
          std::string id = created.id;
          detail::follow_task_async(loop, client, std::move(id), std::move(created),
                                    options.waiting(), started, std::move(result));
        } catch (...) {
          detail::fail_from_queue(*loop, std::move(result), std::current_exception());
        }
      });
}

}  // namespace

future<Task> AsyncTasks::run(const nlohmann::json& params, const RunOptions& options) const {
  const auto started = Clock::now();
  promise<Task> result;
  auto future = result.get_future();
  std::shared_ptr<nlohmann::json> body;
  std::vector<detail::InputFile> files;
  try {
    body = std::make_shared<nlohmann::json>(detail::prepare_run_body(params));
    // Found and checked here, on the calling thread (no request): a bad file fails the future
    // at once. Their uploads run on the loop; an input without files costs this scan only.
    files = detail::collect_input_files((*body)["input"],
                                        core_->client()->options().upload_file_like_strings);
  } catch (...) {
    result.set_exception(std::current_exception());
    return future;
  }
  const auto& loop = core_->loop();
  loop->post([loop, client = core_->client(), body = std::move(body), files = std::move(files),
              options, started, result]() mutable {
    if (files.empty()) {
      create_task_on_loop(loop, client, std::move(*body), options, started, std::move(result));
      return;
    }
    detail::upload_input_files_async(
        loop, client, std::move(files), options.cancel,
        [loop, client, body, options, started, result](const std::exception_ptr& error) mutable {
          if (error) {
            detail::fail_from_queue(*loop, std::move(result), error);
            return;
          }
          create_task_on_loop(loop, client, std::move(*body), options, started, std::move(result));
        });
  });
  return future;
}

future<Task> AsyncTasks::run(const nlohmann::json& params) const {
  return run(params, RunOptions{});
}

future<Task> AsyncTasks::get(const std::string& task_id) const {
  try {
    return detail::call_on_loop<Task>(
        core_, detail::get_task_call(task_id), {}, [task_id](const detail::ApiResult& payload) {
          return detail::task_from_payload(payload.data, "GET /tasks/" + task_id);
        });
  } catch (...) {
    return make_exceptional_future<Task>(std::current_exception());
  }
}

future<void> AsyncTasks::cancel(const std::string& task_id) const {
  try {
    return detail::call_on_loop<void>(core_, detail::cancel_task_call(task_id), {},
                                      [](const detail::ApiResult&) {});
  } catch (...) {
    return make_exceptional_future<void>(std::current_exception());
  }
}

future<Task> AsyncTasks::wait_for_completion(const std::string& task_id,
                                             const WaitOptions& options) const {
  promise<Task> result;
  auto future = result.get_future();
  detail::follow_task_async(core_->loop(), core_->client(), task_id, std::nullopt, options,
                            Clock::now(), std::move(result));
  return future;
}

future<Task> AsyncTasks::wait_for_completion(const std::string& task_id) const {
  return wait_for_completion(task_id, WaitOptions{});
}

AsyncClient::AsyncClient(const ClientOptions& options, const AsyncOptions& async)
    : core_(std::make_shared<detail::AsyncCore>(options, async)),
      tasks(core_),
      files(core_),
      sessions(core_),
      agents(core_) {}

const std::string& AsyncClient::base_url() const noexcept {
  return core_->client()->options().base_url;
}

void AsyncClient::shutdown() { core_->loop()->shutdown(); }

int AsyncClient::descriptor() const noexcept { return core_->loop()->descriptor(); }

std::optional<std::chrono::milliseconds> AsyncClient::timeout() const {
  return core_->loop()->timeout();
}

void AsyncClient::run_once(std::chrono::milliseconds max_wait) {
  core_->loop()->run_once(max_wait);
}

AsyncStats AsyncClient::stats() const noexcept {
  const auto loop = core_->loop()->stats();
  AsyncStats stats;
  stats.transfers = loop.transfers;
  stats.timers = loop.timers;
  stats.paused_transfers = loop.paused_transfers;
  stats.waiting_transfers = loop.waiting_transfers;
  stats.body_bytes_received = loop.body_bytes_received;
  return stats;
}

}  // namespace inferencesh
