// What hosting an app program costs, measured on the hello example (examples/apps/hello):
//
// - start-up: `hello worker` spawned until its `ready` line (what a cold instance costs the
//   runtime before setup);
// - in process: one run through infsh::AppHost (input validation, the app's run, output
//   encoding), the floor any host pays;
// - through the runtime: run-and-wait tasks from the C++ client against one infsh-local, the
//   hello program in its worker process (`--app bench/hello=...`) against the built-in
//   in-process `infsh/echo`, in alternating rounds. Their difference is the worker hop (pipes,
//   the protocol, a process switch).
//
//     app_bench [--runtime PATH] [--hello PATH] [--starts N] [--runs N] [--tasks N] [--rounds R]

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <infsh/infsh.hpp>

#include "bench_util.hpp"
#include "inferencesh/inferencesh.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
using Clock = std::chrono::steady_clock;

namespace {

// The same model and run as examples/apps/hello, for the in-process measurement.
struct Input {
  std::string name;
  bool excited = false;
};
INFSH_MODEL(Input, INFSH_FIELD(name).min_length(1), INFSH_FIELD(excited).with_default())

struct Output : infsh::BaseAppOutput {
  std::string greeting;
};
INFSH_MODEL(Output, INFSH_FIELD(greeting))

class Hello : public infsh::BaseApp {
 public:
  Output run(const Input& input, infsh::Context& context) {
    context.log("greeting " + input.name);
    return {{}, "Hello, " + input.name + (input.excited ? "!" : ".")};
  }
};

struct Options {
  std::string runtime = INFSH_LOCAL_PROGRAM;
  std::string hello = INFSH_HELLO_PROGRAM;
  int starts = 20;
  int runs = 20000;
  int tasks = 500;
  int rounds = 3;
};

Options parse(int argc, char** argv) {
  Options options;
  for (inf::bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--runtime")) {
      options.runtime = flags.value();
    } else if (flags.is("--hello")) {
      options.hello = flags.value();
    } else if (flags.is("--starts")) {
      options.starts = flags.count();
    } else if (flags.is("--runs")) {
      options.runs = flags.count();
    } else if (flags.is("--tasks")) {
      options.tasks = flags.count();
    } else if (flags.is("--rounds")) {
      options.rounds = flags.count();
    } else {
      flags.unknown();
    }
  }
  return options;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using inf::bench::median;

// Spawn to `ready`, `starts` times; seconds each.
std::vector<double> measure_starts(const Options& options) {
  std::vector<double> times;
  for (int i = 0; i < options.starts; ++i) {
    const auto start = Clock::now();
    inf::testing::Subprocess worker({options.hello, "worker"});
    if (!worker.read_line_containing("\"type\":\"ready\"", std::chrono::seconds(10))) {
      throw std::runtime_error("hello worker printed no ready line: " + worker.output());
    }
    times.push_back(seconds_since(start));
    worker.signal(SIGTERM);
    worker.wait(std::chrono::seconds(5));
  }
  return times;
}

// Seconds per in-process run.
double measure_in_process(const Options& options) {
  infsh::AppHost host(infsh::define_app<Hello>());
  const infsh::RunRequest request{.task_id = "bench",
                                  .function = "run",
                                  .input = {{"name", "Ada"}, {"excited", true}},
                                  .metadata = {}};
  const infsh::Context::Sink sink{};
  if (!host.run(request, sink).ok()) throw std::runtime_error("in-process run failed");
  const auto start = Clock::now();
  for (int i = 0; i < options.runs; ++i) {
    if (!host.run(request, sink).ok()) throw std::runtime_error("in-process run failed");
  }
  return seconds_since(start) / options.runs;
}

// Seconds per run-and-wait task of `app`.
double measure_tasks(inf::Client& client, const nlohmann::json& params, int count) {
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    if (client.tasks.run(params).status != inf::TaskStatus::completed) {
      throw std::runtime_error("a task did not complete");
    }
  }
  return seconds_since(start) / count;
}

int bench(const Options& options) {
  std::printf("hello program: %s\n", options.hello.c_str());
  const double start_up = median(measure_starts(options));
  std::printf("worker start-up (spawn to ready), median of %d: %.1f ms\n", options.starts,
              start_up * 1e3);
  const double in_process = measure_in_process(options);
  std::printf("in-process run (AppHost), mean of %d: %.2f us\n", options.runs, in_process * 1e6);

  inf::testing::Subprocess runtime({options.runtime, "--port", "0", "--log-level", "warning",
                                    "--data-dir", ":memory:", "--app",
                                    "bench/hello=" + options.hello});
  const auto url_line = runtime.read_line_containing("http://", std::chrono::seconds(10));
  if (!url_line) throw std::runtime_error("infsh-local printed no URL: " + runtime.output());
  auto client =
      inf::inference({.api_key = "bench", .base_url = url_line->substr(url_line->find("http://"))});
  const nlohmann::json hello = {{"app", "bench/hello"},
                                {"input", {{"name", "Ada"}, {"excited", true}}}};
  const nlohmann::json echo = {{"app", "infsh/echo"},
                               {"input", {{"name", "Ada"}, {"excited", true}}}};
  measure_tasks(client, hello, 20);  // warm: the worker is started and set up
  measure_tasks(client, echo, 20);

  std::vector<double> program_times;
  std::vector<double> builtin_times;
  for (int round = 1; round <= options.rounds; ++round) {
    program_times.push_back(measure_tasks(client, hello, options.tasks));
    builtin_times.push_back(measure_tasks(client, echo, options.tasks));
    std::printf("round %d: app program %.3f ms/task, in-process app %.3f ms/task\n", round,
                program_times.back() * 1e3, builtin_times.back() * 1e3);
  }
  runtime.signal(SIGTERM);
  runtime.wait(std::chrono::seconds(10));

  const double program = median(program_times);
  const double builtin = median(builtin_times);
  std::printf("\nrun-and-wait through infsh-local, medians of %d rounds of %d tasks:\n",
              options.rounds, options.tasks);
  std::printf("  app program (worker process)  %.3f ms/task\n", program * 1e3);
  std::printf("  in-process app (infsh/echo)   %.3f ms/task\n", builtin * 1e3);
  std::printf("  worker hop: %+.3f ms/task (%.2fx)\n", (program - builtin) * 1e3,
              program / builtin);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "app_bench: %s\n", e.what());
    return 1;
  }
}
