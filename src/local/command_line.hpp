#pragma once

// The infsh-local command line.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "infsh/local/runtime.hpp"

namespace infsh::local {

struct CommandLine {
  RuntimeOptions options;
  bool help = false;
  bool version = false;
};

/// An --app value that is not NAMESPACE/NAME=PATH. A start-up error (exit status 1, like a
/// program that is missing), not a usage error.
class AppSpecError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Parses the arguments (without the program name). Throws std::invalid_argument naming the
/// bad option (AppSpecError for a bad --app value).
CommandLine parse_command_line(const std::vector<std::string>& args);

/// The --help text.
std::string usage_text();

}  // namespace infsh::local
