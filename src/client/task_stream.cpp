#include "inferencesh/task_stream.hpp"

#include "inferencesh/errors.hpp"
#include "task_follower.hpp"

namespace inferencesh {

TaskStream::TaskStream(std::unique_ptr<detail::TaskFollower> follower)
    : follower_(std::move(follower)) {}
TaskStream::TaskStream(TaskStream&&) noexcept = default;
TaskStream& TaskStream::operator=(TaskStream&&) noexcept = default;
TaskStream::~TaskStream() = default;

bool TaskStream::advance() {
  has_current_ = false;
  if (!follower_) return false;
  has_current_ = follower_->next() != nullptr;
  return has_current_;
}

const Task* TaskStream::next() { return advance() ? &follower_->current() : nullptr; }

TaskStream::iterator TaskStream::begin() { return advance() ? iterator(this) : iterator(); }

TaskStream::iterator::reference TaskStream::iterator::operator*() const {
  if (stream_ == nullptr) throw StreamError("dereferenced the end of a TaskStream");
  return stream_->follower_->current();
}

TaskStream::iterator& TaskStream::iterator::operator++() {
  if (stream_ != nullptr && !stream_->advance()) stream_ = nullptr;
  return *this;
}

bool TaskStream::finished() const noexcept { return !follower_ || follower_->finished(); }

const Task& TaskStream::result() const {
  const Task* final_task = follower_ ? follower_->final_task() : nullptr;
  if (final_task == nullptr) {
    throw StreamError("the task has not reached a final status on this stream yet");
  }
  if (final_task->status == TaskStatus::failed) throw TaskFailedError(*final_task);
  if (final_task->status == TaskStatus::cancelled) {
    throw CancelledError("task cancelled", *final_task);
  }
  return *final_task;
}

const Task& TaskStream::current() const {
  if (!follower_) throw StreamError("the TaskStream was moved from");
  return follower_->current();
}

void TaskStream::close() {
  if (follower_) follower_->close();
  has_current_ = false;
}

}  // namespace inferencesh
