#include "signal_watcher.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <system_error>

#if defined(__SANITIZE_THREAD__)
#define INFSH_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INFSH_THREAD_SANITIZER 1
#endif
#endif

namespace infsh::detail {
namespace {

std::array<int, 2> g_pipe = {-1, -1};
std::atomic<int> g_signals{0};
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

constexpr char kSignalled = 's';
constexpr char kStop = 'q';
constexpr const char* kThreadName = "infsh-signals";

extern "C" void on_signal(int) {
  // Only async-signal-safe calls here.
  if (g_signals.fetch_add(1) > 0) ::_exit(130);
  const int saved = errno;
  const char byte = kSignalled;
  [[maybe_unused]] const ssize_t written = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

void restore_handlers() {
  ::sigaction(SIGINT, &g_previous_int, nullptr);
  ::sigaction(SIGTERM, &g_previous_term, nullptr);
}

void close_pipe() {
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

}  // namespace

SignalWatcher::SignalWatcher(std::function<void()> on_signal_callback)
    : on_signal_(std::move(on_signal_callback)) {
  g_signals = 0;
  if (::pipe2(g_pipe.data(), O_CLOEXEC) != 0)
    return;  // no watcher: signals keep their default action
#ifdef INFSH_THREAD_SANITIZER
  // GCC 12's ThreadSanitizer loses a signal that arrives while a thread sets up its own signal
  // bookkeeping, which it does lazily, on the thread's first blocking call. Have that done now
  // for the thread that runs the app, before any handler is installed. Signal 0 sends nothing.
  ::pthread_kill(::pthread_self(), 0);
#endif
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_previous_int);
  ::sigaction(SIGTERM, &action, &g_previous_term);
  // The watcher thread starts with every signal blocked, so the handler always runs on another
  // thread. Were it to interrupt the watcher's own read(), a runtime that defers handlers until
  // the interrupted call returns (ThreadSanitizer does) would wait for a byte that only the
  // deferred handler writes.
  sigset_t all_signals;
  sigset_t previous_mask;
  sigfillset(&all_signals);
  ::pthread_sigmask(SIG_SETMASK, &all_signals, &previous_mask);
  bool started = true;
  try {
    thread_ = std::thread([this] {
      for (;;) {
        char byte = 0;
        const ssize_t got = ::read(g_pipe[0], &byte, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0 || byte == kStop) return;
        if (on_signal_) on_signal_();
      }
    });
  } catch (const std::system_error&) {
    started = false;
  }
  ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  if (!started) {
    // No thread: signals keep their previous action.
    restore_handlers();
    close_pipe();
    return;
  }
  ::pthread_setname_np(thread_.native_handle(), kThreadName);
}

SignalWatcher::~SignalWatcher() {
  if (!thread_.joinable()) return;
  restore_handlers();
  const char byte = kStop;
  [[maybe_unused]] const ssize_t written = ::write(g_pipe[1], &byte, 1);
  thread_.join();
  close_pipe();
}

}  // namespace infsh::detail
