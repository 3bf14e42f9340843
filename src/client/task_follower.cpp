#include "task_follower.hpp"

#include "inferencesh/errors.hpp"
#include "task_operations.hpp"

namespace inferencesh::detail {

TaskFollower::TaskFollower(std::shared_ptr<const ClientCore> core, std::string task_id,
                           std::optional<Task> created, const WaitOptions& options,
                           Clock::time_point started)
    : core_(core),
      rules_(std::move(core), std::move(task_id), std::move(created), options, started) {}

TaskFollower::~TaskFollower() = default;

void TaskFollower::close() {
  drop_stream();
  pending_.clear();
  rules_.close();
}

const Task* TaskFollower::next() {
  if (rules_.finished()) return nullptr;
  return rules_.mode() == WaitMode::poll ? next_polled() : next_streamed();
}

const Task* TaskFollower::apply(StreamEvent&& event) {
  try {
    const Task* update = rules_.apply(std::move(event));
    if (rules_.finished()) drop_stream();
    return update;
  } catch (...) {
    if (rules_.finished()) drop_stream();
    throw;
  }
}

void TaskFollower::drop_stream() {
  stream_.reset();
  ndjson_.reset();
  sse_.reset();
}

void TaskFollower::wait_or_cancel(std::chrono::milliseconds delay) {
  if (rules_.cancel().wait_for(rules_.clamp_to_deadline(delay))) {
    throw CancelledError("the call was cancelled");
  }
  if (rules_.deadline_passed()) rules_.throw_deadline();
}

ApiResult TaskFollower::call_within_deadline(const ApiCall& call) {
  try {
    return core_->call(rules_.within_deadline(call), rules_.cancel());
  } catch (const ConnectionError&) {
    rules_.rethrow_call_failure(std::current_exception());
  }
}

void TaskFollower::open_stream() {
  rules_.connection_opened();
  stream_ = core_->open_stream(task_stream_path(rules_.task_id()), "application/x-ndjson",
                               rules_.cancel(), rules_.deadline());
  const auto type = find_header(stream_->headers(), "Content-Type").value_or("");
  if (type.find("text/event-stream") != std::string::npos) {
    sse_.emplace();
  } else {
    ndjson_.emplace();
  }
}

const Task* TaskFollower::next_streamed() {
  const auto sink = [this](StreamEvent&& event) { pending_.push_back(std::move(event)); };
  for (;;) {
    // Once per chunk: a server that never stops sending cannot outlast a cancel or the deadline.
    rules_.check_cancel_and_deadline();
    while (!pending_.empty()) {
      StreamEvent event = std::move(pending_.front());
      pending_.pop_front();
      if (const Task* update = apply(std::move(event))) return update;
    }
    if (ended_) {
      // The stream ended before a final status. If it skipped a payload, that may have been the
      // final status: one GET settles it before the usual reconnect. An update it brings is
      // handed out first; ended_ stays set, so the next call reconnects.
      if (rules_.needs_confirmation(*ended_)) {
        std::optional<ApiResult> full;
        try {
          full = core_->call(rules_.confirmation_call(), rules_.cancel());
        } catch (const Error&) {
          rules_.confirmation_failed(std::current_exception());
        }
        if (full) {
          if (const Task* update = rules_.confirmed(std::move(*full))) return update;
        }
      }
      const std::string reason = std::move(*ended_);
      ended_.reset();
      drop_stream();
      wait_or_cancel(rules_.reconnect_delay(reason));
    }
    if (!stream_) {
      try {
        open_stream();
      } catch (const Error&) {
        wait_or_cancel(rules_.reconnect_delay(rules_.open_failed(std::current_exception())));
        continue;
      }
    }
    bool more = false;
    try {
      more = stream_->next(chunk_);
    } catch (const Error&) {
      ended_ = rules_.read_failed(std::current_exception());
      drop_stream();
      continue;
    }
    if (more) {
      if (ndjson_) {
        ndjson_->feed(chunk_, sink);
      } else {
        sse_->feed(chunk_, sink);
      }
      continue;
    }
    // A clean end without a final status: hand out what the last bytes carried, then reconnect.
    if (ndjson_) {
      ndjson_->finish(sink);
    } else {
      sse_->finish(sink);
    }
    drop_stream();
    ended_ = "ended";
  }
}

const Task* TaskFollower::next_polled() {
  for (;;) {
    rules_.check_cancel_and_deadline();
    wait_or_cancel(rules_.next_poll_delay());
    const ApiResult status = call_within_deadline(task_status_call(rules_.task_id()));
    if (!rules_.status_changed(status)) continue;
    const ApiResult full = call_within_deadline(get_task_call(rules_.task_id()));
    return rules_.polled(full);
  }
}

}  // namespace inferencesh::detail
