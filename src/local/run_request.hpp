#pragma once

// Reading the body of POST /apps/run: JSON syntax, field types, the app reference
// ("namespace/name[@version][:function]"), and the app's own input checks. Every refusal names
// the field at fault.

#include <string>
#include <string_view>

#include "infsh/local/app.hpp"
#include "task_engine.hpp"

namespace infsh::local {

/// The parts of an app reference.
struct AppRef {
  std::string name;      ///< "ns/name"
  std::string version;   ///< after '@'; empty when absent
  std::string function;  ///< after ':'; empty when absent
};

/// Splits "ns/name@version:function"; throws ApiProblem 422 when malformed.
AppRef parse_app_ref(std::string_view ref);

/// Parses and validates a run request. Throws ApiProblem: 400 for a body that is not a JSON
/// object or an input or setup naming a local file (check_client_files), 422 for a field of the
/// wrong type or value, 404 for an unknown app or function.
RunRequest parse_run_request(std::string_view body, const AppRegistry& apps);

}  // namespace infsh::local
