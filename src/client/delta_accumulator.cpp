#include "delta_accumulator.hpp"

#include <algorithm>
#include <string>

namespace inferencesh::detail {
namespace {

using nlohmann::json;

void concat(json& current, const json& incoming) {
  if (!incoming.is_string()) {
    current = incoming;
    return;
  }
  if (!current.is_string()) current = "";
  current.get_ref<std::string&>() += incoming.get_ref<const std::string&>();
}

void merge_function(json& current, const json& incoming) {
  if (!current.is_object()) {
    current = incoming;
    return;
  }
  for (const auto& [key, value] : incoming.items()) {
    if (value.is_null()) continue;
    if (key == "arguments") {
      concat(current[key], value);
    } else {
      current[key] = value;
    }
  }
}

void merge_tool_call(json& current, const json& incoming) {
  for (const auto& [key, value] : incoming.items()) {
    if (value.is_null()) continue;
    if (key == "function" && value.is_object()) {
      merge_function(current[key], value);
    } else {
      current[key] = value;
    }
  }
}

long long index_of(const json& call) {
  const auto it = call.find("index");
  return it != call.end() && it->is_number_integer() ? it->get<long long>() : 0;
}

void merge_tool_calls(json& current, const json& incoming) {
  if (!incoming.is_array()) {
    current = incoming;
    return;
  }
  if (!current.is_array()) current = json::array();
  for (const auto& call : incoming) {
    if (!call.is_object()) continue;
    const long long index = index_of(call);
    auto known = std::find_if(current.begin(), current.end(),
                              [&](const json& c) { return index_of(c) == index; });
    if (known == current.end()) {
      current.push_back(call);
    } else {
      merge_tool_call(*known, call);
    }
  }
  std::stable_sort(current.begin(), current.end(),
                   [](const json& a, const json& b) { return index_of(a) < index_of(b); });
}

}  // namespace

void DeltaAccumulator::add(const json& delta) {
  if (!delta.is_object()) return;
  for (const auto& [key, value] : delta.items()) {
    if (value.is_null()) continue;
    if (key == "response" || key == "reasoning") {
      concat(output_[key], value);
    } else if (key == "tool_calls") {
      merge_tool_calls(output_[key], value);
    } else {
      output_[key] = value;
    }
  }
}

}  // namespace inferencesh::detail
