// Tasks per second of `infsh/echo` run-and-wait against one infsh-local, for the C++ client and
// the official JavaScript SDK in the same run. Each task is the full path a user takes: POST
// /apps/run, then follow /tasks/{id}/stream to the completed status (client.tasks.run(params) in
// C++, client.run(params) in JS).
//
// - sequential: one task after another on one client;
// - concurrent: C callers at once. C++: C threads sharing one inf::Client (copies share one
//   connection pool, as the client is meant to be used). JS: C promises looping on one SDK
//   client (bench/js_tasks_bench.mjs, spawned with node in each round).
//
// Rounds alternate C++ and JS so machine noise hits both alike; medians and the C++/JS ratios
// are printed.
//
// With --against PATH, the C++ client runs against two infsh-local programs instead (PATH is,
// say, a build of older code): rounds alternate between them, and the medians and the ratio
// runtime / against are printed. The JS part is skipped then.
//
//     runtime_tasks_bench [--runtime PATH] [--sequential N] [--concurrent N] [--clients C]
//                         [--rounds R] [--workers W] [--node PATH] [--sdk-prefix DIR] [--no-js]
//                         [--against PATH]
//
// The JS part needs the pinned SDK installed once: npm ci --no-audit --no-fund --prefix
// tests/conformance (or point --sdk-prefix / INFSH_JS_SDK_PREFIX at another install).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
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
  std::string node = "node";
  std::string js_script = INFSH_JS_TASKS_BENCH;
  std::string esm_hook = INFSH_ESM_HOOK;
  std::string sdk_prefix = INFSH_JS_SDK_DEFAULT_PREFIX;
  int sequential = 1000;
  int concurrent = 4000;
  int clients = 64;
  int rounds = 3;
  int workers = 4;
  bool js = true;
  std::string against;  // a second infsh-local to compare with
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
    } else if (flags.is("--sequential")) {
      options.sequential = flags.count();
    } else if (flags.is("--concurrent")) {
      options.concurrent = flags.count();
    } else if (flags.is("--clients")) {
      options.clients = flags.count();
    } else if (flags.is("--rounds")) {
      options.rounds = flags.count();
    } else if (flags.is("--workers")) {
      options.workers = flags.count();
    } else if (flags.is("--no-js")) {
      options.js = false;
    } else if (flags.is("--against")) {
      options.against = flags.value();
    } else {
      flags.unknown();
    }
  }
  return options;
}

std::string random_key() {
  std::random_device device;
  std::string key = "sk-bench-";
  for (int i = 0; i < 16; ++i) key += "0123456789abcdef"[device() % 16];
  return key;
}

void run_echo(const inf::Client& client, int i) {
  const inf::Task task = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"i", i}}}});
  if (task.status != inf::TaskStatus::completed || task.output.value("i", -1) != i) {
    throw std::runtime_error("unexpected task: " + task.raw.dump());
  }
}

double sequential(const inf::Client& client, int n) {
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) run_echo(client, i);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// `width` threads share `client` and take task numbers from one counter until n are done.
double concurrent(const inf::Client& client, int n, int width) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(width));
  const auto start = Clock::now();
  for (int t = 0; t < width; ++t) {
    threads.emplace_back([&] {
      try {
        for (int i = next++; i < n && !failed; i = next++) run_echo(client, i);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (error) std::rethrow_exception(error);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct JsResult {
  double sequential_seconds = 0;
  double concurrent_seconds = 0;
  std::string versions;
};

// Runs bench/js_tasks_bench.mjs against the same runtime; it prints one JSON line.
JsResult run_js(const Options& options, const std::string& url, const std::string& key) {
  inf::testing::Subprocess node(
      {options.node, "--import", options.esm_hook, options.js_script, url, key,
       std::to_string(options.sequential), std::to_string(options.concurrent),
       std::to_string(options.clients)},
      {"INFSH_JS_SDK_PREFIX=" + options.sdk_prefix});
  const auto line = node.read_line_containing("\"sequential\"", milliseconds(600000));
  const auto status = node.wait(milliseconds(10000));
  if (!line || status != 0) {
    throw std::runtime_error("the JS benchmark failed (exit " +
                             (status ? std::to_string(*status) : std::string("?")) +
                             "); its output:\n" + node.output());
  }
  const auto result = nlohmann::json::parse(*line);
  return {result.at("sequential").at("seconds").get<double>(),
          result.at("concurrent").at("seconds").get<double>(),
          result.at("sdk").get<std::string>() + ", node " + result.at("node").get<std::string>()};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// One infsh-local for the comparison, with a client pointed at it.
struct Started {
  Started(const std::string& program, const Options& options, const std::string& key)
      : process({program, "--port", "0", "--api-key", key, "--workers",
                 std::to_string(options.workers), "--log-level", "error"}) {
    const auto url = process.read_line_containing("http://", milliseconds(10000));
    if (!url) throw std::runtime_error(program + " printed no URL:\n" + process.output());
    client = inf::inference({.api_key = key, .base_url = *url});
  }
  inf::testing::Subprocess process;
  inf::Client client;
};

int compare(const Options& options) {
  const std::string key = random_key();
  Started runtime(options.runtime, options, key);
  Started against(options.against, options, key);
  std::printf(
      "runtime %s\nagainst %s\n(%d workers), %d sequential and %d concurrent tasks (%d "
      "callers), %d rounds\n",
      options.runtime.c_str(), options.against.c_str(), options.workers, options.sequential,
      options.concurrent, options.clients, options.rounds);
  for (Started* started : {&runtime, &against}) {
    sequential(started->client, 100);
    concurrent(started->client, options.clients * 2, options.clients);
  }
  std::vector<double> seq[2], conc[2];
  for (int round = 1; round <= options.rounds; ++round) {
    // Each round in the other order, so neither side always runs on a warmer machine.
    const bool runtime_first = round % 2 == 1;
    for (int side : runtime_first ? std::vector<int>{0, 1} : std::vector<int>{1, 0}) {
      const inf::Client& client = side == 0 ? runtime.client : against.client;
      seq[side].push_back(options.sequential / sequential(client, options.sequential));
      conc[side].push_back(options.concurrent /
                           concurrent(client, options.concurrent, options.clients));
    }
    std::printf("round %d  runtime: %8.1f seq %8.1f x%d   against: %8.1f seq %8.1f x%d\n", round,
                seq[0].back(), conc[0].back(), options.clients, seq[1].back(), conc[1].back(),
                options.clients);
  }
  std::printf("\nmedian of %d rounds (tasks/s, infsh/echo run-and-wait, C++ client)\n",
              options.rounds);
  std::printf("  %-22s %10s %12s\n", "", "sequential", "concurrent");
  std::printf("  %-22s %10.1f %12.1f\n", "runtime", median(seq[0]), median(conc[0]));
  std::printf("  %-22s %10.1f %12.1f\n", "against", median(seq[1]), median(conc[1]));
  std::printf("  %-22s %9.2fx %11.2fx\n", "ratio runtime / against",
              median(seq[0]) / median(seq[1]), median(conc[0]) / median(conc[1]));
  int failures = 0;
  for (Started* started : {&runtime, &against}) {
    started->process.signal(SIGTERM);
    if (started->process.wait(milliseconds(15000)) != 0) ++failures;
  }
  return failures == 0 ? 0 : 1;
}

int bench(const Options& options) {
  if (!options.against.empty()) return compare(options);
  const std::string key = random_key();
  inf::testing::Subprocess runtime({options.runtime, "--port", "0", "--api-key", key, "--workers",
                                    std::to_string(options.workers), "--log-level", "error"});
  const auto url_line = runtime.read_line_containing("http://", milliseconds(10000));
  if (!url_line) throw std::runtime_error("infsh-local printed no URL:\n" + runtime.output());
  const std::string url = *url_line;

  const auto client = inf::inference({.api_key = key, .base_url = url});
  std::printf(
      "runtime %s (%d workers), %d sequential and %d concurrent tasks (%d callers), "
      "%d rounds\n",
      url.c_str(), options.workers, options.sequential, options.concurrent, options.clients,
      options.rounds);

  // Warm-up: connection pool, the runtime's warm instance, allocator.
  sequential(client, 100);
  concurrent(client, options.clients * 2, options.clients);

  std::vector<double> cpp_seq, cpp_conc, js_seq, js_conc;
  std::string js_versions;
  for (int round = 1; round <= options.rounds; ++round) {
    const double s = options.sequential / sequential(client, options.sequential);
    const double c = options.concurrent / concurrent(client, options.concurrent, options.clients);
    cpp_seq.push_back(s);
    cpp_conc.push_back(c);
    std::printf("round %d  C++: %8.1f tasks/s sequential  %8.1f tasks/s x%d", round, s, c,
                options.clients);
    if (options.js) {
      const JsResult js = run_js(options, url, key);
      js_seq.push_back(options.sequential / js.sequential_seconds);
      js_conc.push_back(options.concurrent / js.concurrent_seconds);
      js_versions = js.versions;
      std::printf("   JS: %8.1f tasks/s sequential  %8.1f tasks/s x%d", js_seq.back(),
                  js_conc.back(), options.clients);
    }
    std::printf("\n");
    std::fflush(stdout);
  }

  std::printf("\nmedian of %d rounds (tasks/s, infsh/echo run-and-wait)\n", options.rounds);
  std::printf("  %-28s %10s %12s\n", "", "sequential", "concurrent");
  std::printf("  %-28s %10.1f %12.1f\n", "C++ client (1 Client, threads)", median(cpp_seq),
              median(cpp_conc));
  if (options.js) {
    std::printf("  %-28s %10.1f %12.1f\n", "JS SDK (1 client, promises)", median(js_seq),
                median(js_conc));
    std::printf("  %-28s %9.2fx %11.2fx\n", "ratio C++ / JS", median(cpp_seq) / median(js_seq),
                median(cpp_conc) / median(js_conc));
    std::printf("  (%s)\n", js_versions.c_str());
  }

  runtime.signal(SIGTERM);
  const auto status = runtime.wait(milliseconds(15000));
  if (status != 0) {
    std::fprintf(stderr, "infsh-local did not exit cleanly (status %d)\n", status.value_or(-1));
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when piped to a file
  try {
    return bench(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_tasks_bench: %s\n", e.what());
    return 1;
  }
}
