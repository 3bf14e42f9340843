#pragma once

// Finding the infsh-local program for `<app> serve`: the app library does not link the
// runtime, it starts it.

#include <optional>
#include <string>

namespace infsh::detail {

/// The absolute path of the running program (/proc/self/exe), or `fallback` when unknown.
std::string self_executable_path(const std::string& fallback);

/// infsh-local: $INFSH_LOCAL when set (it must be executable), else next to `program`, else the
/// build tree's (see set_build_tree_infsh_local), else on PATH. nullopt when none is found;
/// throws std::runtime_error when $INFSH_LOCAL is set but not executable.
std::optional<std::string> find_infsh_local(const std::string& program);

/// Makes find_infsh_local() try `path` before PATH. Only programs built in the SDK's own build
/// tree (its examples and test apps) call it, so that their `serve` finds the infsh-local built
/// beside them; the library itself knows no build tree, so an installed app never runs a stale
/// build's runtime. `path` must live as long as the program (a string literal).
void set_build_tree_infsh_local(const char* path) noexcept;

}  // namespace infsh::detail
