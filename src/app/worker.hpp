#pragma once

// `<program> worker`: serves the worker protocol on stdin/stdout until shutdown or end of input.

#include <string>

#include "infsh/app_definition.hpp"

namespace infsh::detail {

/// Runs the worker loop for `app`, registered as `name`; returns the exit status.
int run_worker(const AppDefinition& app, const std::string& name);

}  // namespace infsh::detail
