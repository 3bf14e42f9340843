#pragma once

#include <nlohmann/json.hpp>

namespace inferencesh::detail {

/// Accumulates the LLMDelta pieces of one message (`delta` events of a chat stream) into its
/// output so far, by the platform's merge tags: `response` and `reasoning` concatenated,
/// `tool_calls` merged by `index` (sorted by it; `id`, `type` and `function.name` replaced,
/// `function.arguments` concatenated), anything else replaced. A null or absent incoming value
/// never clears one already there. Sans-IO: fed JSON, gives JSON.
class DeltaAccumulator {
 public:
  void add(const nlohmann::json& delta);
  const nlohmann::json& output() const noexcept { return output_; }

 private:
  nlohmann::json output_ = nlohmann::json::object();
};

}  // namespace inferencesh::detail
