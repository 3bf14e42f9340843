#pragma once

// The description of an app program the local runtime hosts (RuntimeOptions::app_programs,
// `infsh-local --app NAME=PATH`).

#include <string>
#include <string_view>

namespace infsh::local {

/// An app program to host (`infsh-local --app NAME=PATH`): a program written with the app
/// library (or any program speaking docs/worker-protocol.md), run as `PATH worker`, one process
/// per warm instance.
struct AppProgram {
  std::string name;  ///< "namespace/name", as clients call it
  std::string path;  ///< the program; relative paths are taken from the current directory
};

/// Splits "ns/name=path/to/program" (the value of --app) into an AppProgram. Throws
/// std::invalid_argument naming `spec` when it has no '=' or an empty side. The name and the
/// file are checked when the Runtime is built.
AppProgram parse_app_program(std::string_view spec);

}  // namespace infsh::local
