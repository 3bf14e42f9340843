#pragma once

// The command line of an app program, parsed without side effects (so it is testable).

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace infsh::detail {

/// A command line that cannot be run; the message says what was wrong.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// What the program was asked to do.
struct Command {
  enum class Kind { help, version, schema, run, serve, worker };
  Kind kind = Kind::help;

  // schema
  std::string out_dir = ".";
  bool print = false;

  // run
  std::optional<std::string> input;  ///< a file name, "-" (stdin) or JSON text
  std::optional<std::string> setup;
  std::string function;  ///< empty: the default function

  // serve
  std::string port = "0";
  std::string name;                     ///< "namespace/name"; empty: the program's own
  std::vector<std::string> local_args;  ///< passed on to infsh-local (after "--")
};

/// Parses argv[1..]. Throws UsageError naming the problem.
Command parse_command_line(const std::vector<std::string>& args);

/// The --help text for a program called `program`.
std::string usage_text(const std::string& program);

/// True when `text` looks like inline JSON rather than a file name (starts with '{' or '[',
/// after white space).
bool looks_like_json(const std::string& text);

}  // namespace infsh::detail
