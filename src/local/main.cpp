// infsh-local: the local runtime as a program. Prints its URL as the first line, serves until
// SIGINT or SIGTERM, then shuts down gracefully and exits 0.

#include <pthread.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigset_t, sigwait()
#include <sys/resource.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "inferencesh/version.hpp"
#include "infsh/local/runtime.hpp"

namespace {

// Each open stream is a socket: lift the soft descriptor limit to the hard one so thousands of
// idle streams fit (the usual soft default is 1024).
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  infsh::local::CommandLine line;
  try {
    line = infsh::local::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const infsh::local::AppSpecError& e) {
    std::cerr << "infsh-local: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "infsh-local: " << e.what() << "\n\n" << infsh::local::usage_text();
    return 2;
  }
  if (line.help) {
    std::cout << infsh::local::usage_text();
    return 0;
  }
  if (line.version) {
    std::cout << "infsh-local " << inferencesh::kVersion << "\n";
    return 0;
  }

  // Signals are taken by sigwait() below, never by a handler: block them before any thread
  // starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit();

  try {
    infsh::local::Runtime runtime(line.options);
    runtime.start();
    std::cout << runtime.url() << std::endl;  // the first line: tools wait for it

    int received = 0;
    sigwait(&stop_signals, &received);
    std::fprintf(stderr, "infsh-local: %s received, shutting down\n",
                 received == SIGINT ? "SIGINT" : "SIGTERM");
    runtime.stop();
  } catch (const std::exception& e) {
    std::cerr << "infsh-local: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
