#pragma once

// The worker protocol (docs/worker-protocol.md): JSON lines between infsh-local and an app
// program started as `<program> worker`. Messages are built and parsed here, without I/O.

#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "infsh/app_definition.hpp"
#include "infsh/app_host.hpp"
#include "infsh/context.hpp"

namespace infsh::detail::protocol {

/// The protocol version this library speaks, sent in `ready`.
inline constexpr int kVersion = 1;

/// A request line that is not a valid request.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A request from the runtime.
struct Request {
  enum class Type { setup, run, cancel, shutdown };
  Type type = Type::shutdown;
  std::string task_id;
  std::string function;
  nlohmann::json setup;  ///< setup values (null: defaults)
  nlohmann::json input = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();
};

/// Parses one line. Throws ProtocolError naming the problem.
Request parse_request(std::string_view line);

/// `ready`: protocol version, app name, functions with schemas, setup schema.
nlohmann::ordered_json ready_message(const AppDefinition& app, const std::string& name);
/// `setup_done` or `setup_error`.
nlohmann::ordered_json setup_message(const std::string& task_id, const RunOutcome& outcome);
/// `result` or `error`.
nlohmann::ordered_json run_message(const std::string& task_id, const RunOutcome& outcome);
/// `log`.
nlohmann::ordered_json log_message(const std::string& task_id, LogLevel level,
                                   const std::string& message);
/// `progress`.
nlohmann::ordered_json progress_message(const std::string& task_id, double current, double total,
                                        const std::string& message);
/// `partial`.
nlohmann::ordered_json partial_message(const std::string& task_id, const EncodedOutput& output);
/// `error` for a request that could not be handled (kind "protocol", "cancelled", ...).
nlohmann::ordered_json error_message(const std::string& task_id, const std::string& kind,
                                     const std::string& message);

/// One message as a line: compact JSON (invalid UTF-8 replaced) and "\n".
std::string to_line(const nlohmann::ordered_json& message);

}  // namespace infsh::detail::protocol
