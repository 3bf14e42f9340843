#pragma once

// One line turns an app class into a program:
//
//   INFSH_MAIN(ImageGenerator)
//
// gives a program with these commands (`<program> --help` shows them):
//
//   schema [--out-dir DIR]       writes input_schema.json, output_schema.json,
//                                setup_schema.json (when the app has a setup model) and
//                                functions_schema.json; `--print` writes them to stdout
//   run --input FILE|JSON [--setup FILE|JSON] [--function NAME]
//                                one run; prints the output JSON on stdout; logs, progress and
//                                partial outputs go to stderr; Ctrl-C cancels
//   serve [--port N] [--name NS/NAME] [-- infsh-local options]
//                                starts infsh-local hosting this program (see docs/apps.md)
//   worker                       the long-lived process infsh-local drives over stdin/stdout
//                                (docs/worker-protocol.md)
//
// Exit status: 0 success, 1 the run or setup failed, 2 bad command line, 3 invalid input or
// setup, 130 cancelled.

#include "infsh/app_definition.hpp"
#include "infsh/base_app.hpp"

namespace infsh {

/// Exit statuses of an app program.
enum ExitStatus : int {
  kExitOk = 0,
  kExitFailed = 1,        ///< the run or setup failed (an exception, a bad output)
  kExitUsage = 2,         ///< bad command line, unreadable input file, malformed JSON
  kExitInvalidInput = 3,  ///< the input or setup broke the model's rules
  kExitCancelled = 130,   ///< cancelled (SIGINT/SIGTERM)
};

/// Runs the command line of an app program; returns the exit status.
int run_program(const AppDefinition& app, int argc, char** argv);

}  // namespace infsh

/// Defines main() for the app class App (see the top of this file).
#define INFSH_MAIN(App)                                                  \
  int main(int argc, char** argv) {                                      \
    return ::infsh::run_program(::infsh::define_app<App>(), argc, argv); \
  }
