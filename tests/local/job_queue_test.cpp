// The runtime's job queue, behind the worker pool (app code) and the serial executor (file work).

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "local/apps/worker_pool.hpp"
#include "local/support/job_queue.hpp"
#include "local/support/logger.hpp"
#include "local/support/serial_executor.hpp"

using infsh::local::JobQueue;
using infsh::local::LogLevel;

namespace {

struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;

  infsh::local::Logger logger() {
    return infsh::local::Logger(LogLevel::debug, [this](LogLevel, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    });
  }
};

}  // namespace

TEST_CASE("a job queue of one thread runs its jobs in the order they were queued") {
  LogLines log;
  const auto logger = log.logger();
  std::vector<int> order;  // written by the queue's one thread, read after stop()
  JobQueue queue(1, logger, "test job", JobQueue::Late::refuse);
  for (int i = 0; i < 200; ++i) CHECK(queue.push([&order, i] { order.push_back(i); }));
  queue.stop();
  REQUIRE(order.size() == 200);
  for (int i = 0; i < 200; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("stopping a job queue runs what is queued, then refuses late jobs") {
  LogLines log;
  const auto logger = log.logger();
  std::atomic<int> ran{0};
  JobQueue queue(3, logger, "test job", JobQueue::Late::refuse);
  CHECK(queue.threads() == 3);
  for (int i = 0; i < 500; ++i) queue.push([&ran] { ++ran; });
  queue.stop();
  CHECK(ran == 500);
  CHECK_FALSE(queue.push([&ran] { ++ran; }));
  queue.stop();  // idempotent
  CHECK(ran == 500);
}

TEST_CASE("a job queue that runs late jobs on the caller runs them at once, on the caller") {
  LogLines log;
  const auto logger = log.logger();
  JobQueue queue(1, logger, "test job", JobQueue::Late::run_on_caller);
  queue.stop();
  std::thread::id ran_on;
  CHECK_FALSE(queue.push([&ran_on] { ran_on = std::this_thread::get_id(); }));
  CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("a job that throws is logged with its text, and the jobs after it still run") {
  LogLines log;
  const auto logger = log.logger();
  bool after = false;
  JobQueue queue(1, logger, "test job", JobQueue::Late::run_on_caller);
  queue.push([] { throw std::runtime_error("boom"); });
  queue.push([] { throw 42; });
  queue.push([&after] { after = true; });
  queue.stop();
  queue.push([] { throw std::runtime_error("late boom"); });  // run here, logged, not thrown
  CHECK(after);
  CHECK(log.lines == std::vector<std::string>{"test job failed: boom",
                                              "test job failed with an unknown exception",
                                              "test job failed: late boom"});
}

TEST_CASE("the jobs of a queue with several threads run at the same time") {
  LogLines log;
  const auto logger = log.logger();
  std::promise<void> second_started;
  std::future<bool> first_saw_second;
  JobQueue queue(2, logger, "test job", JobQueue::Late::refuse);
  std::packaged_task<bool()> first([started = second_started.get_future()] {
    // With one thread this would wait the full minute and report false.
    return started.wait_for(std::chrono::minutes(1)) == std::future_status::ready;
  });
  first_saw_second = first.get_future();
  queue.push([&first] { first(); });
  queue.push([&second_started] { second_started.set_value(); });
  CHECK(first_saw_second.get());
  queue.stop();
}

TEST_CASE(
    "once stopped, the worker pool refuses jobs and the serial executor runs them on the spot") {
  LogLines log;
  const auto logger = log.logger();
  infsh::local::WorkerPool workers(2, logger);
  CHECK(workers.size() == 2);
  int ran = 0;
  CHECK(workers.submit([&ran] { ++ran; }));
  workers.stop();
  CHECK(ran == 1);
  CHECK_FALSE(workers.submit([&ran] { ++ran; }));
  CHECK(ran == 1);

  infsh::local::SerialExecutor io(logger);
  io.stop();
  io.post([&ran] { ++ran; });
  CHECK(ran == 2);
}
