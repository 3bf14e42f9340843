#pragma once

// The runtime's side of the worker protocol (docs/worker-protocol.md), without I/O: reading a
// worker's `ready`, building the requests, turning worker messages into task log lines, and
// describing how a worker process ended.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// The protocol version this runtime speaks.
inline constexpr int kWorkerProtocol = 1;

/// What a worker announced in its `ready` message.
struct WorkerReady {
  std::string app;  ///< the name the program registers (the runtime's --app name wins)
  std::string default_function;
  /// Every function, the default first, then the others by name.
  std::vector<std::string> functions;
  /// Per function: where Files can appear in its input (JSON pointers with `*`).
  std::map<std::string, std::vector<std::string>> input_files;
  /// Where Files can appear in the setup value.
  std::vector<std::string> setup_files;
};

/// Reads a `ready` message. Throws std::runtime_error saying what is wrong: another message
/// type, a protocol version this runtime does not speak, no functions.
WorkerReady parse_ready(const nlohmann::json& message);

nlohmann::json setup_request(const std::string& task_id, const nlohmann::json& setup);
nlohmann::json run_request(const std::string& task_id, const std::string& function,
                           const nlohmann::json& input, const nlohmann::json& metadata);
nlohmann::json cancel_request(const std::string& task_id);
nlohmann::json shutdown_request();

/// The `task_id` of a worker message; empty when null or absent.
std::string message_task_id(const nlohmann::json& message);

/// A `log` message as a task log line: its text, after "[debug] ", "[warning] " or
/// "[error] " unless the level is info.
std::string log_line(const nlohmann::json& message);

/// The failure text of an `error` or `setup_error`: its message, else its kind; `issues` that
/// the message does not already mention are appended ("input.text: must be ...").
std::string error_text(const nlohmann::json& message);

/// How a process ended, from its waitpid() status: "exited with status 3", "was killed by
/// signal 11 (Segmentation fault)".
std::string describe_exit(int wait_status);

}  // namespace infsh::local
