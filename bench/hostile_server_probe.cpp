// What the client does against a hostile or broken server: each case scripts a misbehaving
// answer on the test suite's scripted server and makes one client call against it in a child
// process, so that a crash is reported instead of ending the probe. One line per case: what the
// call ended with, after how long, and the child's peak resident memory.
//
//     hostile_server_probe [case ...]        (no case: all of them)
//
// Cases:
//   deep-error     a 400 whose JSON body nests arrays 100,000 levels deep (200 KB)
//   deep-task      GET /tasks/t1 answered with a task whose output nests 1,000,000 levels
//   deep-line      a stream line nested 1,000,000 levels, then the final status
//   huge-body      GET /tasks/t1 answered with an endless chunked body (request timeout 5 s)
//   huge-length    the same with Content-Length: 100 GB
//   cancel-flood   a stream that never stops sending heartbeats; cancelled after 2 s
//   deadline       a stream of one heartbeat a second and no final status; the wait is given a
//                  3 s deadline; the probe gives up after 30 s
//   bad-line       a stream line that is not JSON between two good ones
//   bad-final      the final status line garbled, then the stream ends
//   huge-header    a response header line of 200 KB

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "inferencesh/inferencesh.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kGiveUpAfter = 30s;

std::string line(const json& value) { return value.dump() + "\n"; }

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

Reply ndjson_head() {
  return Reply::status(200).header("Content-Type", "application/x-ndjson").chunked();
}

inf::ClientOptions options_for(const ScriptedServer& server) {
  inf::ClientOptions options;
  options.api_key = "sk-probe";
  options.base_url = server.base_url();
  options.request_timeout = 5s;
  options.retry.max_retries = 0;
  options.wait.reconnect_backoff = 10ms;
  options.wait.max_reconnect_backoff = 100ms;
  options.log = [](inf::LogLevel level, std::string_view message) {
    if (level >= inf::LogLevel::warning) {
      std::fprintf(stderr, "  log: %.*s\n",
                   static_cast<int>(std::min<std::size_t>(message.size(), 160)), message.data());
    }
  };
  return options;
}

struct Case {
  const char* name;
  std::function<void(Router&)> script;
  // Runs the call in the child; returns what it ended with.
  std::function<std::string(inf::Client&)> call;
};

std::string describe_task(const inf::Task& task) {
  return std::string("returned the task, status ") + std::string(inf::to_string(task.status));
}

std::vector<Case> cases() {
  std::vector<Case> all;
  all.push_back({"deep-error",
                 [](Router& r) {
                   r.on("GET", "/tasks/t1",
                        Reply::status(400)
                            .header("Content-Type", "application/json")
                            .body(nested_arrays(100000)));
                 },
                 [](inf::Client& c) { return describe_task(c.tasks.get("t1")); }});
  all.push_back(
      {"deep-task",
       [](Router& r) {
         r.on("GET", "/tasks/t1",
              Reply::status(200)
                  .header("Content-Type", "application/json")
                  .body("{\"id\":\"t1\",\"status\":10,\"output\":" + nested_arrays(1000000) + "}"));
       },
       [](inf::Client& c) { return describe_task(c.tasks.get("t1")); }});
  all.push_back(
      {"deep-line",
       [](Router& r) {
         r.on("GET", "/tasks/t1/stream",
              ndjson_head()
                  .send(line({{"id", "t1"}, {"status", 7}}))
                  .send("{\"id\":\"t1\",\"status\":7,\"output\":" + nested_arrays(1000000) + "}\n")
                  .send(line({{"id", "t1"}, {"status", 10}})));
       },
       [](inf::Client& c) { return describe_task(c.tasks.wait_for_completion("t1")); }});
  all.push_back({"huge-body",
                 [](Router& r) {
                   r.on("GET", "/tasks/t1",
                        Reply::status(200)
                            .header("Content-Type", "application/json")
                            .chunked()
                            .send("{\"id\":\"t1\",\"output\":\"")
                            .send_repeated(std::string(1 << 20, 'x'), 100000));
                 },
                 [](inf::Client& c) { return describe_task(c.tasks.get("t1")); }});
  all.push_back({"huge-length",
                 [](Router& r) {
                   r.on("GET", "/tasks/t1",
                        Reply::status(200)
                            .header("Content-Type", "application/json")
                            .header("Content-Length", "100000000000")
                            .send("{\"id\":\"t1\",\"output\":\"")
                            .send_repeated(std::string(1 << 20, 'x'), 100000));
                 },
                 [](inf::Client& c) { return describe_task(c.tasks.get("t1")); }});
  all.push_back({"cancel-flood",
                 [](Router& r) {
                   std::string heartbeats;
                   while (heartbeats.size() < (64 << 10))
                     heartbeats += line({{"type", "heartbeat"}});
                   // About 4 GB, then the final status: a call that ignores the cancel completes.
                   r.on("GET", "/tasks/t1/stream",
                        ndjson_head()
                            .send(line({{"id", "t1"}, {"status", 7}}))
                            .send_repeated(heartbeats, 60000)
                            .send(line({{"id", "t1"}, {"status", 10}})));
                 },
                 [](inf::Client& c) {
                   inf::CancellationToken cancel;
                   std::thread canceller([cancel] {
                     std::this_thread::sleep_for(2s);
                     cancel.cancel();
                   });
                   canceller.detach();
                   return describe_task(c.tasks.wait_for_completion("t1", {.cancel = cancel}));
                 }});
  all.push_back({"deadline",
                 [](Router& r) {
                   auto reply = ndjson_head().send(line({{"id", "t1"}, {"status", 7}}));
                   for (int i = 0; i < 60; ++i) reply.delay(1s).send(line({{"type", "heartbeat"}}));
                   r.on("GET", "/tasks/t1/stream", reply);
                 },
                 [](inf::Client& c) {
                   return describe_task(c.tasks.wait_for_completion("t1", {.deadline = 3s}));
                 }});
  all.push_back({"bad-line",
                 [](Router& r) {
                   r.on("GET", "/tasks/t1/stream",
                        ndjson_head()
                            .send(line({{"id", "t1"}, {"status", 7}}))
                            .send("{\"id\":\"t1\",\"status\":7,\"output\":\"cut off\n")
                            .send(line({{"id", "t1"}, {"status", 10}})));
                 },
                 [](inf::Client& c) { return describe_task(c.tasks.wait_for_completion("t1")); }});
  all.push_back({"bad-final",
                 [](Router& r) {
                   r.on("GET", "/tasks/t1/stream",
                        ndjson_head()
                            .send(line({{"id", "t1"}, {"status", 7}}))
                            .send("{\"id\":\"t1\",\"status\":10,\"output\":\"do\xFF\xFEne\"}\n"));
                   r.on("GET", "/tasks/t1",
                        Reply::json(200, {{"id", "t1"}, {"status", 10}, {"output", "done"}}));
                 },
                 [](inf::Client& c) { return describe_task(c.tasks.wait_for_completion("t1")); }});
  all.push_back({"huge-header",
                 [](Router& r) {
                   r.on("GET", "/tasks/t1",
                        Reply::json(200, {{"id", "t1"}, {"status", 10}})
                            .header("X-Padding", std::string(200 << 10, 'p')));
                 },
                 [](inf::Client& c) { return describe_task(c.tasks.get("t1")); }});
  return all;
}

// The call's outcome as one line: the exception's type and message, cut to fit.
std::string run_call(const Case& probe, inf::Client& client) {
  std::string outcome;
  try {
    outcome = probe.call(client);
  } catch (const inf::TimeoutError& e) {
    outcome = std::string("TimeoutError: ") + e.what();
  } catch (const inf::CancelledError& e) {
    outcome = std::string("CancelledError: ") + e.what();
  } catch (const inf::ApiError& e) {
    outcome = "ApiError " + std::to_string(e.status()) + ", detail \"" + e.detail().substr(0, 40) +
              (e.detail().size() > 40 ? "...\"" : "\"");
  } catch (const inf::DecodeError& e) {
    outcome = std::string("DecodeError: ") + e.what();
  } catch (const inf::Error& e) {
    outcome = std::string("Error: ") + e.what();
  } catch (const std::exception& e) {
    outcome = std::string("std::exception: ") + e.what();
  }
  if (outcome.size() > 200) outcome = outcome.substr(0, 200) + "...";
  return outcome;
}

void probe(const Case& probe) {
  Router router;
  probe.script(router);
  ScriptedServer server(router.handler());

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) std::abort();
  const auto start = Clock::now();
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    auto client = inf::inference(options_for(server));
    std::string outcome = run_call(probe, client);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    outcome = std::to_string(seconds) + "\t" + outcome;
    [[maybe_unused]] const auto written = ::write(pipe_fds[1], outcome.data(), outcome.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);

  // Reap the child, killing it when it runs past the give-up time.
  int status = 0;
  rusage usage{};
  bool killed = false;
  for (;;) {
    const pid_t done = ::wait4(child, &status, WNOHANG, &usage);
    if (done == child) break;
    if (Clock::now() - start > kGiveUpAfter && !killed) {
      ::kill(child, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(10ms);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::string report;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    report.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);

  std::string outcome;
  if (killed) {
    outcome = "still waiting after " + std::to_string(kGiveUpAfter.count()) + " s (killed)";
  } else if (WIFSIGNALED(status)) {
    outcome = std::string("CRASHED: ") + strsignal(WTERMSIG(status));
  } else if (const auto tab = report.find('\t'); tab != std::string::npos) {
    outcome = report.substr(tab + 1);
  } else {
    outcome = "exited without a report, status " + std::to_string(WEXITSTATUS(status));
  }
  std::printf("%-13s %7.2f s  peak RSS %7.1f MB  %s\n", probe.name, seconds,
              static_cast<double>(usage.ru_maxrss) / 1024.0, outcome.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const auto all = cases();
  std::vector<std::string> wanted(argv + 1, argv + argc);
  for (const auto& name : wanted) {
    bool known = false;
    for (const auto& c : all) known = known || name == c.name;
    if (!known) {
      std::fprintf(stderr, "unknown case %s\n", name.c_str());
      return 2;
    }
  }
  for (const auto& c : all) {
    bool chosen = wanted.empty();
    for (const auto& name : wanted) chosen = chosen || name == c.name;
    if (chosen) probe(c);
  }
  return 0;
}
