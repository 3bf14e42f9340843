// N concurrent run-and-wait tasks of `infsh/echo` through one infsh-local, three ways: the async
// client on its one loop thread (N futures at once), the blocking client on T threads sharing
// one Client (each thread takes the next task until all are done; T = N by default, one thread
// per task), and the official JS SDK (bench/js_async_tasks_bench.mjs: N `client.run` promises
// awaited with Promise.all). Each task is the full path: POST /apps/run, then the NDJSON stream
// of /tasks/{id} to the completed status.
//
// Each side runs in a child process of its own (this program started again with --side, or
// node), so that its peak RSS (VmHWM) and thread count are its own; the parent starts
// infsh-local, runs the sides in rotating order for --rounds rounds and prints the medians.
//
//     async_tasks_bench [--runtime PATH] [--tasks N] [--rounds R] [--workers W]
//                       [--blocking-threads T] [--max-requests M] [--unbounded]
//                       [--node PATH] [--sdk-prefix DIR] [--no-js]
//
// --max-requests: the async client's AsyncOptions::max_requests_in_flight (default: its
// default, 64; 0: no bound). --unbounded: a fourth side, the async client with no bound.
// The async sides print the percentiles of their tasks' completion times on stderr.
//
// Peak threads are sampled from /proc/self/status every 5 ms by a sampler thread (a timer in
// node), which is counted too (the async side's threads are main + loop + sampler).

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
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
  std::string node = "node";
  std::string js_script = INFSH_JS_ASYNC_TASKS_BENCH;
  std::string esm_hook = INFSH_ESM_HOOK;
  std::string sdk_prefix = INFSH_JS_SDK_DEFAULT_PREFIX;
  int tasks = 10000;
  int rounds = 3;
  int workers = 4;
  int blocking_threads = 0;  // 0: one per task
  int max_requests = -1;     // AsyncOptions::max_requests_in_flight; -1: its default
  bool js = true;
  bool unbounded = false;  // also the async client with no bound on requests in flight
  // Child mode.
  std::string side;
  std::string url;
  std::string key;
};

Options parse(int argc, char** argv) {
  Options options;
  if (const char* prefix = std::getenv("INFSH_JS_SDK_PREFIX"); prefix != nullptr) {
    options.sdk_prefix = prefix;
  }
  for (inf::bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--runtime")) {
      options.runtime = flags.value();
    } else if (flags.is("--node")) {
      options.node = flags.value();
    } else if (flags.is("--sdk-prefix")) {
      options.sdk_prefix = flags.value();
    } else if (flags.is("--unbounded")) {
      options.unbounded = true;
    } else if (flags.is("--no-js")) {
      options.js = false;
    } else if (flags.is("--blocking-threads")) {
      options.blocking_threads = flags.count();
    } else if (flags.is("--max-requests")) {
      options.max_requests = std::stoi(flags.value());  // 0: no limit
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

// Each task holds a socket: lifts the soft limit on descriptors to the hard one (inherited by
// the children, node included).
void raise_descriptor_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// The async side's completion times, on stderr: percentiles of the time from the start to each
// task's completion, and how many completed in each tenth of the run.
void report_latencies(Clock::time_point start, std::vector<Clock::time_point> done_at) {
  if (done_at.empty()) return;
  std::vector<double> seconds;
  seconds.reserve(done_at.size());
  for (const auto& at : done_at)
    seconds.push_back(std::chrono::duration<double>(at - start).count());
  std::sort(seconds.begin(), seconds.end());
  const auto at = [&](double q) {
    return seconds[std::min(seconds.size() - 1,
                            static_cast<std::size_t>(q * static_cast<double>(seconds.size())))];
  };
  std::fprintf(
      stderr,
      "completed after: p1 %.2f s, p10 %.2f s, p50 %.2f s, p90 %.2f s, p99 %.2f s, last %.2f s\n",
      at(0.01), at(0.10), at(0.50), at(0.90), at(0.99), seconds.back());
  const double tenth = seconds.back() / 10;
  std::fprintf(stderr, "completions per tenth of the run:");
  std::size_t k = 0;
  for (int slice = 1; slice <= 10; ++slice) {
    std::size_t n = 0;
    while (k < seconds.size() && (seconds[k] <= tenth * slice || slice == 10)) ++k, ++n;
    std::fprintf(stderr, " %zu", n);
  }
  std::fprintf(stderr, "\n");
}

// CPU time (user + system) of this process so far, in seconds.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU time (user + system) of another process so far, in seconds, from /proc/<pid>/stat.
double process_cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto fields = text.substr(text.rfind(')') + 2);  // after "pid (comm) "
  std::istringstream in(fields);
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// One side, in this (child) process: prints {"seconds", "peak_rss_kib", "peak_threads",
// "cpu_seconds"}.
int run_side(const Options& options) {
  ThreadSampler sampler;
  double seconds = 0;
  // When each task's run-and-wait completed: all of them start at once on the async side.
  std::vector<Clock::time_point> done_at(static_cast<std::size_t>(options.tasks));
  if (options.side == "async" || options.side == "async-unbounded") {
    inf::AsyncOptions async;
    if (options.side == "async-unbounded") {
      async.max_requests_in_flight = 0;
    } else if (options.max_requests >= 0) {
      async.max_requests_in_flight = static_cast<std::size_t>(options.max_requests);
    }
    auto client = inf::async_inference(client_options(options), async);
    const auto start = Clock::now();
    std::vector<inf::future<inf::Task>> runs;
    runs.reserve(static_cast<std::size_t>(options.tasks));
    for (int i = 0; i < options.tasks; ++i) {
      runs.push_back(client.tasks.run(echo(i)).then([&done_at, i](inf::Task task) {
        done_at[static_cast<std::size_t>(i)] = Clock::now();  // on the loop thread
        return task;
      }));
    }
    for (int i = 0; i < options.tasks; ++i) check(runs[static_cast<std::size_t>(i)].get(), i);
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    report_latencies(start, done_at);
  } else if (options.side == "blocking") {
    auto client = inf::inference(client_options(options));
    const int wanted = options.blocking_threads > 0 ? options.blocking_threads : options.tasks;
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    const auto work = [&] {
      for (int i = next++; i < options.tasks && !failed; i = next++) {
        try {
          check(client.tasks.run(echo(i)), i);
        } catch (...) {
          if (!failed.exchange(true)) error = std::current_exception();
        }
      }
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(wanted));
    const auto start = Clock::now();
    for (int t = 0; t < wanted; ++t) {
      try {
        threads.emplace_back(work);
      } catch (const std::system_error& e) {
        // Out of threads: the ones started take the remaining tasks; said on stderr.
        std::fprintf(stderr, "started %zu of %d threads: %s\n", threads.size(), wanted, e.what());
        break;
      }
    }
    for (auto& thread : threads) thread.join();
    if (error) std::rethrow_exception(error);
    if (threads.empty()) throw std::runtime_error("no thread could be started");
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } else {
    throw std::invalid_argument("--side must be async, async-unbounded or blocking");
  }
  const long threads = sampler.stop();
  std::printf(
      "{\"seconds\": %.3f, \"peak_rss_kib\": %ld, \"peak_threads\": %ld, \"cpu_seconds\": %.3f}\n",
      seconds, status_field("VmHWM"), threads, cpu_seconds());
  return 0;
}

struct SideResult {
  double seconds = 0;
  double rss_mib = 0;
  double threads = 0;
  double cpu = 0;          // the side's CPU seconds (its whole process)
  double runtime_cpu = 0;  // infsh-local's CPU seconds while the side ran
  std::string versions;    // the JS side's SDK and node versions
  std::string latencies;   // the async sides' completion percentiles
};

SideResult run_child(const char* self, const Options& options, const std::string& side,
                     const std::string& url, const std::string& key, pid_t runtime) {
  const auto command = [&]() -> std::vector<std::string> {
    if (side == "js") {
      return {options.node,
              "--import",
              options.esm_hook,
              options.js_script,
              url,
              key,
              std::to_string(options.tasks)};
    }
    return {self,
            "--side",
            side,
            "--url",
            url,
            "--key",
            key,
            "--tasks",
            std::to_string(options.tasks),
            "--blocking-threads",
            std::to_string(options.blocking_threads),
            "--max-requests",
            std::to_string(options.max_requests)};
  }();
  const double runtime_cpu_before = process_cpu_seconds(runtime);
  inf::testing::Subprocess child(command, {"INFSH_JS_SDK_PREFIX=" + options.sdk_prefix});
  const auto line = child.read_line_containing("\"seconds\"", milliseconds(900000));
  const auto status = child.wait(milliseconds(60000));
  if (!line || status != 0) {
    throw std::runtime_error(side + " side failed (exit " +
                             (status ? std::to_string(*status) : std::string("?")) + "):\n" +
                             child.output());
  }
  const auto result = nlohmann::json::parse(*line);
  std::string versions;
  if (result.contains("sdk")) {
    versions =
        result.at("sdk").get<std::string>() + ", node " + result.at("node").get<std::string>();
  }
  std::string latencies;
  const std::string& output = child.output();
  if (const auto at = output.find("completed after:"); at != std::string::npos) {
    latencies = output.substr(at, output.find('\n', at) - at);
  }
  return {result.at("seconds").get<double>(),
          result.at("peak_rss_kib").get<double>() / 1024.0,
          result.at("peak_threads").get<double>(),
          result.at("cpu_seconds").get<double>(),
          process_cpu_seconds(runtime) - runtime_cpu_before,
          versions,
          latencies};
}

// The lines of a side's failure that name its errors ("TypeError: fetch failed", then its
// cause "Error: connect EMFILE ..."), without the stacks node prints around them.
std::string error_lines(const std::string& text) {
  std::istringstream lines(text);
  std::string line, found;
  while (std::getline(lines, line)) {
    const auto at = line.find("Error: ");
    if (at == std::string::npos || found.find(line.substr(at)) != std::string::npos) continue;
    const auto start = line.find_first_not_of(' ');
    if (!found.empty()) found += " / ";
    found += line.substr(start, 160);
  }
  return found.empty() ? text.substr(0, 200) : found;
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
  const int blocking_threads =
      options.blocking_threads > 0 ? options.blocking_threads : options.tasks;
  std::printf(
      "runtime %s (%d workers), %d concurrent infsh/echo run-and-wait tasks, %d rounds, "
      "blocking client on %d threads\n",
      url->c_str(), options.workers, options.tasks, options.rounds, blocking_threads);

  std::vector<std::string> sides = {"async", "blocking"};
  if (options.unbounded) sides.emplace_back("async-unbounded");
  if (options.js) sides.emplace_back("js");
  std::map<std::string, std::vector<SideResult>> results;
  std::map<std::string, std::vector<std::string>> failures;
  for (int round = 1; round <= options.rounds; ++round) {
    // Rotating order: each side goes first in some round.
    for (std::size_t k = 0; k < sides.size(); ++k) {
      const std::string& side = sides[(k + static_cast<std::size_t>(round - 1)) % sides.size()];
      SideResult r;
      try {
        r = run_child(self, options, side, *url, key, runtime.pid());
      } catch (const std::exception& e) {
        // A side that fails (the JS SDK runs out of descriptors at 10,000) is reported; the
        // other sides still run.
        failures[side].push_back(error_lines(e.what()));
        std::printf("round %d  %-15s FAILED: %s\n", round, side.c_str(),
                    failures[side].back().c_str());
        continue;
      }
      results[side].push_back(r);
      std::printf(
          "round %d  %-15s %8.3f s  %8.1f MiB peak RSS  %6.0f threads  CPU %.2f s (runtime %.2f "
          "s)\n",
          round, side.c_str(), r.seconds, r.rss_mib, r.threads, r.cpu, r.runtime_cpu);
      if (!r.latencies.empty()) std::printf("         %s\n", r.latencies.c_str());
    }
  }
  using inf::bench::median;
  const auto medians = [&](const std::string& side) {
    std::vector<double> s, rss, threads, cpu, runtime_cpu;
    for (const auto& r : results[side]) {
      s.push_back(r.seconds);
      rss.push_back(r.rss_mib);
      threads.push_back(r.threads);
      cpu.push_back(r.cpu);
      runtime_cpu.push_back(r.runtime_cpu);
    }
    SideResult m;
    m.seconds = median(s);
    m.rss_mib = median(rss);
    m.threads = median(threads);
    m.cpu = median(cpu);
    m.runtime_cpu = median(runtime_cpu);
    return m;
  };
  const std::string blocking_label =
      "blocking client, " + std::to_string(blocking_threads) + " threads";
  std::printf("\nmedian of %d rounds, %d tasks\n", options.rounds, options.tasks);
  std::printf("  %-48s %9s %15s %8s %8s %12s\n", "", "wall (s)", "peak RSS (MiB)", "threads",
              "CPU (s)", "runtime CPU");
  const SideResult async = medians("async");
  const std::string async_label =
      "async client, one loop thread (" +
      std::to_string(options.max_requests >= 0 ? static_cast<std::size_t>(options.max_requests)
                                               : inf::AsyncOptions{}.max_requests_in_flight) +
      " in flight)";
  if (results["async"].empty()) throw std::runtime_error("the async side failed in every round");
  for (const auto& side : sides) {
    const std::string label = side == "async"             ? async_label
                              : side == "async-unbounded" ? "async client, no bound in flight"
                              : side == "blocking"        ? blocking_label
                                                          : "JS SDK, Promise.all";
    if (results[side].empty()) {
      std::printf("  %-48s failed in every round: %s\n", label.c_str(),
                  failures[side].front().c_str());
      continue;
    }
    const SideResult m = medians(side);
    std::printf("  %-48s %9.3f %15.1f %8.0f %8.2f %12.2f", label.c_str(), m.seconds, m.rss_mib,
                m.threads, m.cpu, m.runtime_cpu);
    if (side != "async") {
      std::printf("   (%.2fx the async wall, %.2fx its RSS, %.2fx its CPU)",
                  m.seconds / async.seconds, m.rss_mib / async.rss_mib, m.cpu / async.cpu);
    }
    std::printf("\n");
  }
  if (options.js && !results["js"].empty()) {
    std::printf("  JS: %s\n", results["js"].front().versions.c_str());
  }
  runtime.signal(SIGTERM);
  const bool runtime_ok = runtime.wait(milliseconds(15000)) == 0;
  return runtime_ok && failures.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    const Options options = parse(argc, argv);
    raise_descriptor_limit();
    if (!options.side.empty()) return run_side(options);
    return run_parent(argv[0], options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "async_tasks_bench: %s\n", e.what());
    return 1;
  }
}
