#include "inferencesh/run_params.hpp"

namespace inferencesh {

nlohmann::json RunParams::to_json() const {
  nlohmann::json body = extra.is_object() ? extra : nlohmann::json::object();
  body["app"] = app;
  body["input"] = input;
  if (setup) body["setup"] = *setup;
  if (infra) body["infra"] = *infra;
  if (variant) body["variant"] = *variant;
  if (function) body["function"] = *function;
  if (webhook) body["webhook"] = *webhook;
  if (session) body["session"] = *session;
  if (session_timeout) body["session_timeout"] = *session_timeout;
  return body;
}

void to_json(nlohmann::json& out, const RunParams& params) { out = params.to_json(); }

}  // namespace inferencesh
