// The LLMDelta accumulator of chat streams, on the reference example and the merge rules.

#include <catch2/catch.hpp>

#include "delta_accumulator.hpp"

using nlohmann::json;

TEST_CASE(
    "deltas accumulate by the merge tags: concat, indexed tool calls, nested function, replace") {
  const json call_0 = {{"index", 0},
                       {"id", "call_1"},
                       {"type", "function"},
                       {"function", {{"name", "f"}, {"arguments", "{\"a\""}}}};
  const json call_0_more = {{"index", 0}, {"function", {{"arguments", ":1}"}}}};
  const json call_1 = {{"index", 1}, {"id", "call_2"}, {"function", {{"name", "g"}}}};
  inferencesh::detail::DeltaAccumulator accumulator;
  accumulator.add({{"response", "Hel"}, {"tool_calls", json::array({call_0})}});
  accumulator.add({{"response", "lo world"},
                   {"reasoning", "r1"},
                   {"tool_calls", json::array({call_1, call_0_more})},
                   {"usage", {{"total_tokens", 3}}}});
  accumulator.add({{"response", nullptr}, {"usage", {{"prompt_tokens", 1}}}});
  json merged_0 = call_0;
  merged_0["function"]["arguments"] = "{\"a\":1}";
  CHECK(accumulator.output() == json{{"response", "Hello world"},
                                     {"reasoning", "r1"},
                                     {"tool_calls", json::array({merged_0, call_1})},
                                     {"usage", {{"prompt_tokens", 1}}}});
}
