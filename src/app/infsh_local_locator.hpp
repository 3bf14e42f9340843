#pragma once

// Finding the infsh-local program for `<app> serve`: the app library does not link the
// runtime, it starts it.

#include <optional>
#include <string>

namespace infsh::detail {

/// The absolute path of the running program (/proc/self/exe), or `fallback` when unknown.
std::string self_executable_path(const std::string& fallback);

/// infsh-local: $INFSH_LOCAL when set (it must be executable), else next to `program`, else in
/// the build tree this library was built in, else on PATH. nullopt when none is found; throws
/// std::runtime_error when $INFSH_LOCAL is set but not executable.
std::optional<std::string> find_infsh_local(const std::string& program);

}  // namespace infsh::detail
