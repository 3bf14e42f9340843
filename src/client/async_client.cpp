#include "inferencesh/async_client.hpp"

#include <chrono>
#include <utility>

#include "async_core.hpp"
#include "async_operations.hpp"
#include "async_task_follower.hpp"
#include "inferencesh/errors.hpp"
#include "input_files.hpp"
#include "task_operations.hpp"

namespace inferencesh {

namespace detail {

AsyncCore::AsyncCore(const ClientOptions& options, const AsyncOptions& async)
    : client_(std::make_shared<const ClientCore>(options)),
      loop_(AsyncLoop::create(curl_transport_options(options), async.own_thread)) {}

AsyncCore::~AsyncCore() { loop_->shutdown(); }

}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

/// Runs an API call on the loop from any thread; `decode` turns its payload into the value.
template <typename T, typename Decode>
future<T> call_on_loop(const std::shared_ptr<detail::AsyncCore>& core, detail::ApiCall call,
                       CancellationToken cancel, Decode decode) {
  promise<T> result;
  auto future = result.get_future();
  const auto& loop = core->loop();
  loop->post([loop, client = core->client(), call = std::move(call), cancel = std::move(cancel),
              decode = std::move(decode), result]() mutable {
    detail::async_call(loop, client, call, cancel,
                       [result, decode = std::move(decode)](std::exception_ptr error,
                                                            detail::ApiResult payload) mutable {
                         if (error) {
                           result.set_exception(error);
                           return;
                         }
                         try {
                           if constexpr (std::is_void_v<T>) {
                             decode(std::move(payload));
                             result.set_value();
                           } else {
                             result.set_value(decode(std::move(payload)));
                           }
                         } catch (...) {
                           result.set_exception(std::current_exception());
                         }
                       });
  });
  return future;
}

}  // namespace

future<Task> AsyncTasks::run(const nlohmann::json& params, const RunOptions& options) const {
  const auto started = Clock::now();
  promise<Task> result;
  auto future = result.get_future();
  detail::ApiCall call;
  try {
    auto body = detail::prepare_run_body(params);
    // Files in the input are uploaded here, on the calling thread, by the blocking client's
    // code; an input without files costs a scan and no request.
    detail::upload_input_files(*core_->client(), body["input"],
                               core_->client()->options().upload_file_like_strings, options.cancel);
    if (options.deadline && Clock::now() >= started + *options.deadline) {
      throw detail::run_deadline_error(*options.deadline, "before the task was created");
    }
    call = detail::run_task_call(std::move(body), options.idempotency_key);
    if (options.deadline) call.deadline = started + *options.deadline;
  } catch (...) {
    result.set_exception(std::current_exception());
    return future;
  }
  const auto& loop = core_->loop();
  loop->post(
      [loop, client = core_->client(), call = std::move(call), options, started, result]() mutable {
        detail::async_call(
            loop, client, call, options.cancel,
            [loop, client, options, started, result](std::exception_ptr error,
                                                     detail::ApiResult payload) mutable {
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
                result.set_exception(std::current_exception());
              }
            });
      });
  return future;
}

future<Task> AsyncTasks::run(const nlohmann::json& params) const {
  return run(params, RunOptions{});
}

future<Task> AsyncTasks::get(const std::string& task_id) const {
  try {
    return call_on_loop<Task>(
        core_, detail::get_task_call(task_id), {}, [task_id](detail::ApiResult payload) {
          return detail::task_from_payload(payload.data, "GET /tasks/" + task_id);
        });
  } catch (...) {
    return make_exceptional_future<Task>(std::current_exception());
  }
}

future<void> AsyncTasks::cancel(const std::string& task_id) const {
  try {
    return call_on_loop<void>(core_, detail::cancel_task_call(task_id), {},
                              [](detail::ApiResult) {});
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

AsyncClient::AsyncClient(ClientOptions options, AsyncOptions async)
    : core_(std::make_shared<detail::AsyncCore>(options, async)), tasks(core_), agents(core_) {}

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

}  // namespace inferencesh
