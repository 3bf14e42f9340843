#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace inferencesh {

/// Typed parameters of POST /apps/run. Converts to the JSON the API takes, so it can be passed
/// wherever `nlohmann::json` params are accepted:
///
///     client.tasks.run(inf::RunParams{.app = "infsh/echo", .input = {{"text", "hi"}}});
struct RunParams {
  std::string app;  ///< "namespace/name@version", optionally with ":function"
  nlohmann::json input = nlohmann::json::object();
  std::optional<nlohmann::json> setup;  ///< setup parameters; workers with equal setup are warm
  std::optional<std::string> infra;     ///< "cloud", "private" or "private_first"
  std::optional<std::string> variant;
  std::optional<std::string> function;
  std::optional<std::string> webhook;
  std::optional<std::string> session;               ///< "new" or an existing session id
  std::optional<int> session_timeout;               ///< seconds, 1..3600, only with session "new"
  nlohmann::json extra = nlohmann::json::object();  ///< further keys, sent as given

  nlohmann::json to_json() const;
};

void to_json(nlohmann::json& out, const RunParams& params);

}  // namespace inferencesh
