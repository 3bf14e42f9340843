#pragma once

// The infsh-local command line.

#include <optional>
#include <string>
#include <vector>

#include "infsh/local/runtime.hpp"

namespace infsh::local {

struct CommandLine {
  RuntimeOptions options;
  bool help = false;
  bool version = false;
};

/// Parses the arguments (without the program name). Throws std::invalid_argument naming the
/// bad option.
CommandLine parse_command_line(const std::vector<std::string>& args);

/// The --help text.
std::string usage_text();

}  // namespace infsh::local
