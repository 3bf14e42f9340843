#pragma once

// Helpers for the local runtime tests: an in-process runtime, bounded waits on observable
// state, raw HTTP over a socket, and a child infsh-local process.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/random_file.hpp"
#include "support/temp_dir.hpp"

#include "inferencesh/inferencesh.hpp"
#include "infsh/local/runtime.hpp"

namespace infsh::local::testing {

using namespace std::chrono_literals;

/// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

using inferencesh::testing::read_file;
using inferencesh::testing::TempDir;

using inferencesh::testing::write_random_file;

/// True when both files have the same bytes; compared in chunks, never loaded whole.
bool same_bytes(const std::filesystem::path& a, const std::filesystem::path& b);

/// Holds app code at a point until the test opens it: what makes "while the task is running"
/// a state a test can be in, rather than a race against the clock.
class Gate {
 public:
  /// Lets every waiter through, and every later one at once.
  void open();
  /// Waits until the gate is open; with a context, also until the task is cancelled. Returns
  /// true when the gate opened.
  bool wait(AppContext* context = nullptr);
  /// Waits up to `timeout` until at least `count` waiters are held at the gate.
  bool wait_for_waiters(int count = 1, std::chrono::milliseconds timeout = 10s);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int waiting_ = 0;
};

/// An app whose runs report `{"stage": "started"}` as a partial output, wait at the gate (or
/// for their cancel), then return their input.
class GatedApp final : public App {
 public:
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::unique_ptr<AppInstance> setup(const nlohmann::json& setup, AppContext& context) override;
};

/// A started runtime on a free loopback port, stopped on destruction.
class LocalRuntime {
 public:
  explicit LocalRuntime(RuntimeOptions options = quiet());
  static RuntimeOptions quiet();  ///< defaults, with logging off

  Runtime& runtime() { return runtime_; }
  std::string url() const { return runtime_.url(); }
  std::uint16_t port() const { return runtime_.port(); }
  /// A C++ client pointed at the runtime, with quick reconnects.
  /// Client options for this runtime: its URL, the key, and short backoffs and poll intervals.
  inferencesh::ClientOptions client_options(const std::string& api_key = "test-key") const;
  inferencesh::Client client(const std::string& api_key = "test-key") const;

 private:
  Runtime runtime_;
};

/// A parsed HTTP response.
struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< de-chunked
  std::optional<std::string> header(const std::string& name) const;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

/// The status and headers of a response head (the bytes before its blank line).
RawResponse parse_response_head(const std::string& head);

/// One TCP connection to 127.0.0.1:port, for sending bytes the client library would never send
/// and reading exactly what comes back.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Writes all bytes; false when the peer closed.
  bool send(const std::string& bytes);
  /// What one wait for bytes until `deadline` gave.
  enum class Received { bytes, timeout, closed };
  /// Waits for bytes until `deadline` and appends what arrives to `into`.
  Received receive(std::chrono::steady_clock::time_point deadline, std::string& into);
  /// Reads one response (Content-Length, chunked, or until close). Throws on timeout.
  RawResponse read_response(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// Reads a response head and then body bytes until `done(body so far)` holds (chunk framing
  /// removed). Throws on timeout or close before that.
  RawResponse read_stream_until(
      const std::function<bool(const std::string&)>& done,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// Everything not yet consumed (raw, with any chunk framing) up to the server's close.
  /// Throws on timeout.
  std::string read_until_closed(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// True when the server closed the connection (EOF or reset) within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// Closes now with a reset, as a vanished client would.
  void reset();

 private:
  // Reads more bytes into buffer_; false on EOF/error; throws on timeout.
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

/// Sends one request on a fresh connection and reads the response. A body goes out as
/// application/json unless `headers` give a Content-Type.
RawResponse http_request(std::uint16_t port, const std::string& method, const std::string& path,
                         const std::string& body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

/// The infsh-local program as a child process, killed (SIGKILL) if still running at the end.
class ChildRuntime {
 public:
  explicit ChildRuntime(const std::vector<std::string>& args);
  ~ChildRuntime();
  ChildRuntime(const ChildRuntime&) = delete;
  ChildRuntime& operator=(const ChildRuntime&) = delete;

  /// The first line printed on stdout (waits for it); empty if the program exited first.
  const std::string& first_line() const { return first_line_; }
  void signal(int number);
  /// Waits for the exit; the exit status (or 128 + signal) or nullopt on timeout.
  std::optional<int> wait_exit(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

 private:
  int pid_ = -1;
  int stdout_fd_ = -1;
  std::string first_line_;
  std::optional<int> exit_code_;
};

}  // namespace infsh::local::testing
