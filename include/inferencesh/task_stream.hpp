#pragma once

#include <cstddef>
#include <iterator>
#include <memory>

#include "inferencesh/task.hpp"

namespace inferencesh {

namespace detail {
class TaskFollower;
}

/// The updates of one task as a move-only input range, ending at the final status. Pulling the
/// next update blocks; a failed task throws TaskFailedError and a cancelled one CancelledError
/// from the increment. Single consumer; destroy or close() it to stop early.
///
///     auto stream = client.tasks.stream(id);
///     for (const inf::Task& update : stream) std::cout << update.status << "\n";
///     inf::Task done = stream.result();
class TaskStream {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Task;
    using difference_type = std::ptrdiff_t;
    using pointer = const Task*;
    using reference = const Task&;

    iterator() = default;
    reference operator*() const;
    pointer operator->() const { return &**this; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.stream_ == b.stream_;
    }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

   private:
    friend class TaskStream;
    explicit iterator(TaskStream* stream) : stream_(stream) {}
    TaskStream* stream_ = nullptr;
  };

  TaskStream(TaskStream&&) noexcept;
  TaskStream& operator=(TaskStream&&) noexcept;
  ~TaskStream();

  /// Fetches the first update not yet seen (blocking) and returns an iterator to it.
  iterator begin();
  iterator end() noexcept { return {}; }

  /// Pulls the next update; returns nullptr at the end of the stream.
  const Task* next();

  /// True once the final status was reached (or the stream was closed).
  bool finished() const noexcept;

  /// The final task once the stream completed. Throws StreamError before that, and the
  /// task's TaskFailedError or CancelledError if it ended that way.
  const Task& result() const;

  /// The latest known state of the task (the created task before the first update).
  const Task& current() const;

  /// Stops following the task and closes the connection. The task itself keeps running.
  void close();

 private:
  friend class Tasks;
  explicit TaskStream(std::unique_ptr<detail::TaskFollower> follower);

  bool advance();
  std::unique_ptr<detail::TaskFollower> follower_;
  bool has_current_ = false;
};

}  // namespace inferencesh
