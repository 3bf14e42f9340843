// The worker: a reader thread takes requests off the protocol input (cancel is acted on at
// once, from that thread); the main thread runs setups and runs one at a time, in order.

#include "worker.hpp"

#include <condition_variable>
#include <csignal>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "infsh/app_host.hpp"
#include "stdio_redirect.hpp"
#include "worker_protocol.hpp"

namespace infsh::detail {
namespace {

using protocol::Request;

constexpr std::size_t kMaxLine = std::size_t{256} << 20;  // 256 MiB: inline inputs can be big

// Serialises messages onto the protocol output. After a failed write (the runtime is gone)
// further messages are dropped.
class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}

  void send(const nlohmann::ordered_json& message) {
    const std::string line = protocol::to_line(message);
    std::lock_guard lock(mutex_);
    if (broken_) return;
    if (!write_all(fd_, line)) broken_ = true;
  }

 private:
  int fd_;
  std::mutex mutex_;
  bool broken_ = false;
};

// Setups and runs waiting for the main thread.
class RequestQueue {
 public:
  void push(Request request) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      requests_.push_back(std::move(request));
    }
    ready_.notify_one();
  }

  // The next request; nullopt once closed.
  std::optional<Request> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return closed_ || !requests_.empty(); });
    if (closed_) return std::nullopt;
    Request request = std::move(requests_.front());
    requests_.pop_front();
    return request;
  }

  // Removes a waiting request of `task_id`, if any.
  std::optional<Request> remove(const std::string& task_id) {
    std::lock_guard lock(mutex_);
    for (auto it = requests_.begin(); it != requests_.end(); ++it) {
      if (it->task_id == task_id) {
        Request request = std::move(*it);
        requests_.erase(it);
        return request;
      }
    }
    return std::nullopt;
  }

  // Closes the queue and returns what was still waiting.
  std::deque<Request> close() {
    std::deque<Request> left;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      left.swap(requests_);
    }
    ready_.notify_all();
    return left;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Request> requests_;
  bool closed_ = false;
};

void answer_cancelled(Writer& writer, const Request& request) {
  RunOutcome cancelled;
  cancelled.status = RunOutcome::Status::cancelled;
  cancelled.error_kind = "cancelled";
  cancelled.error = "cancelled before it started";
  writer.send(request.type == Request::Type::setup
                  ? protocol::setup_message(request.task_id, cancelled)
                  : protocol::run_message(request.task_id, cancelled));
}

void read_requests(int fd, Writer& writer, RequestQueue& queue, AppHost& host) {
  LineReader reader(fd, kMaxLine);
  while (auto line = reader.next()) {
    if (line->too_long) {
      writer.send(protocol::error_message(
          "", "protocol", "message longer than " + std::to_string(kMaxLine) + " bytes skipped"));
      continue;
    }
    if (line->text.find_first_not_of(" \t\r") == std::string::npos) continue;
    Request request;
    try {
      request = protocol::parse_request(line->text);
    } catch (const protocol::ProtocolError& e) {
      writer.send(protocol::error_message("", "protocol", e.what()));
      continue;
    }
    switch (request.type) {
      case Request::Type::cancel:
        if (auto waiting = queue.remove(request.task_id)) {
          answer_cancelled(writer, *waiting);
        } else {
          host.cancel(request.task_id);
        }
        break;
      case Request::Type::shutdown:
        for (const auto& waiting : queue.close()) answer_cancelled(writer, waiting);
        host.cancel();
        return;
      case Request::Type::setup:
      case Request::Type::run:
        queue.push(std::move(request));
        break;
    }
  }
  // End of input: the runtime went away or closed our stdin; stop like a shutdown.
  for (const auto& waiting : queue.close()) answer_cancelled(writer, waiting);
  host.cancel();
}

Context::Sink sink_for(Writer& writer, const std::string& task_id) {
  Context::Sink sink;
  sink.log = [&writer, task_id](LogLevel level, const std::string& message) {
    writer.send(protocol::log_message(task_id, level, message));
  };
  sink.progress = [&writer, task_id](double current, double total, const std::string& message) {
    writer.send(protocol::progress_message(task_id, current, total, message));
  };
  sink.partial = [&writer, task_id](const EncodedOutput& output) {
    writer.send(protocol::partial_message(task_id, output));
  };
  return sink;
}

}  // namespace

int run_worker(const AppDefinition& app, const std::string& name) {
  PrivateStreams streams;
  try {
    streams = take_private_streams(true);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  // The runtime owns this process's life: Ctrl-C in its terminal reaches it, and it tells us
  // (shutdown, or closing our stdin). A runtime that died must not kill us mid-write.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);

  Writer writer(streams.out);
  AppHost host(app);
  RequestQueue queue;
  writer.send(protocol::ready_message(app, name));
  std::thread reader([&] { read_requests(streams.in, writer, queue, host); });

  while (auto request = queue.pop()) {
    const Context::Sink sink = sink_for(writer, request->task_id);
    if (request->type == Request::Type::setup) {
      writer.send(protocol::setup_message(request->task_id,
                                          host.setup(request->setup, sink, request->task_id)));
    } else {
      RunRequest run;
      run.task_id = request->task_id;
      run.function = request->function;
      run.input = std::move(request->input);
      run.metadata = std::move(request->metadata);
      writer.send(protocol::run_message(request->task_id, host.run(run, sink)));
    }
  }
  host.unload();
  reader.join();
  return 0;
}

}  // namespace infsh::detail
