#include "signal_watcher.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>

namespace infsh::detail {
namespace {

std::array<int, 2> g_pipe = {-1, -1};
std::atomic<int> g_signals{0};
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

constexpr char kSignalled = 's';
constexpr char kStop = 'q';

extern "C" void on_signal(int) {
  // Only async-signal-safe calls here.
  if (g_signals.fetch_add(1) > 0) ::_exit(130);
  const int saved = errno;
  const char byte = kSignalled;
  [[maybe_unused]] const ssize_t written = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

SignalWatcher::SignalWatcher(std::function<void()> on_signal_callback)
    : on_signal_(std::move(on_signal_callback)) {
  g_signals = 0;
  if (::pipe2(g_pipe.data(), O_CLOEXEC) != 0)
    return;  // no watcher: signals keep their default action
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_previous_int);
  ::sigaction(SIGTERM, &action, &g_previous_term);
  thread_ = std::thread([this] {
    for (;;) {
      char byte = 0;
      const ssize_t got = ::read(g_pipe[0], &byte, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0 || byte == kStop) return;
      if (on_signal_) on_signal_();
    }
  });
}

SignalWatcher::~SignalWatcher() {
  if (!thread_.joinable()) return;
  ::sigaction(SIGINT, &g_previous_int, nullptr);
  ::sigaction(SIGTERM, &g_previous_term, nullptr);
  const char byte = kStop;
  [[maybe_unused]] const ssize_t written = ::write(g_pipe[1], &byte, 1);
  thread_.join();
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

}  // namespace infsh::detail
