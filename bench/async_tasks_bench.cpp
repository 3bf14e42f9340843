// N concurrent run-and-wait tasks of `infsh/echo` through one infsh-local: the async client on
// its one loop thread (N futures at once) against the blocking client on N threads (one call
// each, sharing one Client). Each task is the full path: POST /apps/run, then the NDJSON stream
// of /tasks/{id} to the completed status.
//
// Each side runs in a child process of its own (this program started again with --side), so
// that its peak RSS (VmHWM) and thread count are its own; the parent starts infsh-local, runs
// the sides in alternating order for --rounds rounds and prints the medians.
//
//     async_tasks_bench [--runtime PATH] [--tasks N] [--rounds R] [--workers W]
//
// Peak threads are sampled from /proc/self/status every 5 ms by a sampler thread, which is
// counted too (the async side's threads are main + loop + sampler).

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "inferencesh/inferencesh.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct Options {
  std::string runtime = INFSH_LOCAL_PROGRAM;
  int tasks = 10000;
  int rounds = 3;
  int workers = 4;
  // Child mode.
  std::string side;
  std::string url;
  std::string key;
};

Options parse(int argc, char** argv) {
  Options options;
  for (inf::bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--runtime")) {
      options.runtime = flags.value();
    } else if (flags.is("--tasks")) {
      options.tasks = flags.count();
    } else if (flags.is("--rounds")) {
      options.rounds = flags.count();
    } else if (flags.is("--workers")) {
      options.workers = flags.count();
    } else if (flags.is("--side")) {
      options.side = flags.value();
    } else if (flags.is("--url")) {
      options.url = flags.value();
    } else if (flags.is("--key")) {
      options.key = flags.value();
    } else {
      flags.unknown();
    }
  }
  return options;
}

long status_field(const std::string& name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1));
  }
  return -1;
}

/// Samples the process's thread count until stopped; keeps the peak.
class ThreadSampler {
 public:
  ThreadSampler()
      : thread_([this] {
          while (!stop_) {
            peak_ = std::max(peak_.load(), status_field("Threads"));
            std::this_thread::sleep_for(milliseconds(5));
          }
        }) {}
  ~ThreadSampler() { stop(); }
  long stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

void check(const inf::Task& task, int i) {
  if (task.status != inf::TaskStatus::completed || task.output.value("i", -1) != i) {
    throw std::runtime_error("unexpected task: " + task.raw.dump());
  }
}

nlohmann::json echo(int i) { return {{"app", "infsh/echo"}, {"input", {{"i", i}}}}; }

inf::ClientOptions client_options(const Options& options) {
  inf::ClientOptions client;
  client.api_key = options.key;
  client.base_url = options.url;
  client.request_timeout = std::chrono::seconds(120);
  client.connect_timeout = std::chrono::seconds(60);
  return client;
}

// One side, in this (child) process: prints {"seconds", "peak_rss_kib", "peak_threads"}.
int run_side(const Options& options) {
  // Each task holds a socket: lift the soft limit on descriptors to the hard one.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);

  ThreadSampler sampler;
  double seconds = 0;
  if (options.side == "async") {
    auto client = inf::async_inference(client_options(options));
    const auto start = Clock::now();
    std::vector<inf::future<inf::Task>> runs;
    runs.reserve(static_cast<std::size_t>(options.tasks));
    for (int i = 0; i < options.tasks; ++i) runs.push_back(client.tasks.run(echo(i)));
    for (int i = 0; i < options.tasks; ++i) check(runs[static_cast<std::size_t>(i)].get(), i);
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } else if (options.side == "blocking") {
    auto client = inf::inference(client_options(options));
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(options.tasks));
    const auto start = Clock::now();
    for (int i = 0; i < options.tasks; ++i) {
      threads.emplace_back([&, i] {
        try {
          check(client.tasks.run(echo(i)), i);
        } catch (...) {
          if (!failed.exchange(true)) error = std::current_exception();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    if (error) std::rethrow_exception(error);
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } else {
    throw std::invalid_argument("--side must be async or blocking");
  }
  const long threads = sampler.stop();
  std::printf("{\"seconds\": %.3f, \"peak_rss_kib\": %ld, \"peak_threads\": %ld}\n", seconds,
              status_field("VmHWM"), threads);
  return 0;
}

struct SideResult {
  double seconds = 0;
  double rss_mib = 0;
  double threads = 0;
};

SideResult run_child(const char* self, const Options& options, const std::string& side,
                     const std::string& url, const std::string& key) {
  inf::testing::Subprocess child(
      {self, "--side", side, "--url", url, "--key", key, "--tasks", std::to_string(options.tasks)});
  const auto line = child.read_line_containing("\"seconds\"", milliseconds(900000));
  const auto status = child.wait(milliseconds(60000));
  if (!line || status != 0) {
    throw std::runtime_error(side + " side failed (exit " +
                             (status ? std::to_string(*status) : std::string("?")) + "):\n" +
                             child.output());
  }
  const auto result = nlohmann::json::parse(*line);
  return {result.at("seconds").get<double>(), result.at("peak_rss_kib").get<double>() / 1024.0,
          result.at("peak_threads").get<double>()};
}

std::string random_key() {
  std::random_device device;
  std::string key = "sk-bench-";
  for (int i = 0; i < 16; ++i) key += "0123456789abcdef"[device() % 16];
  return key;
}

int run_parent(const char* self, const Options& options) {
  const std::string key = random_key();
  inf::testing::Subprocess runtime({options.runtime, "--port", "0", "--api-key", key, "--workers",
                                    std::to_string(options.workers), "--log-level", "error"});
  const auto url = runtime.read_line_containing("http://", milliseconds(10000));
  if (!url) throw std::runtime_error("infsh-local printed no URL:\n" + runtime.output());
  std::printf("runtime %s (%d workers), %d concurrent infsh/echo run-and-wait tasks, %d rounds\n",
              url->c_str(), options.workers, options.tasks, options.rounds);

  std::vector<double> async_s, async_rss, async_threads, blocking_s, blocking_rss, blocking_threads;
  for (int round = 1; round <= options.rounds; ++round) {
    const bool async_first = round % 2 == 1;
    for (const char* side : async_first ? std::vector<const char*>{"async", "blocking"}
                                        : std::vector<const char*>{"blocking", "async"}) {
      const SideResult r = run_child(self, options, side, *url, key);
      const bool is_async = std::string(side) == "async";
      (is_async ? async_s : blocking_s).push_back(r.seconds);
      (is_async ? async_rss : blocking_rss).push_back(r.rss_mib);
      (is_async ? async_threads : blocking_threads).push_back(r.threads);
      std::printf("round %d  %-8s %8.3f s  %8.1f MiB peak RSS  %6.0f threads\n", round, side,
                  r.seconds, r.rss_mib, r.threads);
    }
  }
  using inf::bench::median;
  std::printf("\nmedian of %d rounds, %d tasks\n", options.rounds, options.tasks);
  std::printf("  %-38s %10s %14s %10s\n", "", "wall (s)", "peak RSS (MiB)", "threads");
  std::printf("  %-38s %10.3f %14.1f %10.0f\n", "async client, one loop thread", median(async_s),
              median(async_rss), median(async_threads));
  std::printf("  %-38s %10.3f %14.1f %10.0f\n", "blocking client, one thread per task",
              median(blocking_s), median(blocking_rss), median(blocking_threads));
  std::printf("  %-38s %9.2fx %13.2fx\n", "ratio blocking / async",
              median(blocking_s) / median(async_s), median(blocking_rss) / median(async_rss));
  runtime.signal(SIGTERM);
  return runtime.wait(milliseconds(15000)) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    const Options options = parse(argc, argv);
    if (!options.side.empty()) return run_side(options);
    return run_parent(argv[0], options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "async_tasks_bench: %s\n", e.what());
    return 1;
  }
}
