// Chat, ChatMessage and ToolInvocation read from server JSON: every field kept in raw, odd
// types tolerated, arguments as an object or as JSON text, the busy rule.

#include <catch2/catch.hpp>

#include "inferencesh/chat.hpp"

namespace inf = inferencesh;
using nlohmann::json;

TEST_CASE("a tool invocation reads its function, with arguments as an object or as JSON text") {
  const json object = {{"id", "tinv_1"},
                       {"tool_invocation_id", "call_1"},
                       {"type", "client"},
                       {"status", "awaiting_input"},
                       {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}},
                       {"extra", 1}};
  const auto invocation = inf::ToolInvocation::from_json(object);
  CHECK(invocation.id == "tinv_1");
  CHECK(invocation.tool_invocation_id == "call_1");
  CHECK(invocation.name == "get_weather");
  CHECK(invocation.arguments == json{{"city", "Paris"}});
  CHECK(invocation.status == inf::ToolInvocationStatus::awaiting_input);
  CHECK(invocation.awaits_client_result());
  CHECK(invocation.raw.at("extra") == 1);

  json as_text = object;
  as_text["function"]["arguments"] = R"({"city":"Lyon"})";
  CHECK(inf::ToolInvocation::from_json(as_text).arguments == json{{"city", "Lyon"}});
  as_text["function"]["arguments"] = "{not json";
  CHECK(inf::ToolInvocation::from_json(as_text).arguments == "{not json");
  as_text["function"]["arguments"] = "";
  CHECK(inf::ToolInvocation::from_json(as_text).arguments == json::object());
  as_text["status"] = "in_progress";
  CHECK(inf::ToolInvocation::from_json(as_text).awaits_client_result());
  as_text["type"] = "app";
  CHECK_FALSE(inf::ToolInvocation::from_json(as_text).awaits_client_result());
}

TEST_CASE("messages and chats tolerate missing and mistyped fields and keep raw") {
  const json odd = {
      {"id", 5}, {"status", 3}, {"content", "text"}, {"tool_invocations", {1, "x", {{"id", "t"}}}}};
  const auto message = inf::ChatMessage::from_json(odd);
  CHECK(message.id.empty());
  CHECK(message.status == inf::MessageStatus::unknown);
  CHECK(message.content.empty());
  REQUIRE(message.tool_invocations.size() == 1);
  CHECK(message.tool_invocations[0].id == "t");
  CHECK(message.raw == odd);
  CHECK(inf::Chat::from_json("not an object").id.empty());
  CHECK(inf::ChatMessage::from_json(nullptr).raw == json::object());
}

TEST_CASE("a message's text joins its text parts, and a chat sorts its messages by order") {
  const json chat = {{"id", "chat_1"},
                     {"status", "idle"},
                     {"output", {{"answer", 42}}},
                     {"chat_messages",
                      {{{"id", "m2"},
                        {"order", 2},
                        {"role", "assistant"},
                        {"status", "ready"},
                        {"content",
                         {{{"type", "reasoning"}, {"text", "hmm"}},
                          {{"type", "text"}, {"text", "Hel"}},
                          {{"type", "text"}, {"text", "lo"}}}}},
                       {{"id", "m1"}, {"order", 1}, {"role", "user"}, {"status", "queued"}}}}};
  const auto parsed = inf::Chat::from_json(chat);
  REQUIRE(parsed.messages.size() == 2);
  CHECK(parsed.messages[0].id == "m1");
  CHECK(parsed.messages[0].status == inf::MessageStatus::queued);
  CHECK(parsed.messages[1].text() == "Hello");
  CHECK(parsed.messages[1].is_terminal());
  CHECK(parsed.output == json{{"answer", 42}});
  CHECK_FALSE(parsed.is_busy());
}

TEST_CASE(
    "a chat is busy while busy or awaiting_input, or by its active run's state when it has one") {
  CHECK(inf::Chat::from_json({{"status", "busy"}}).is_busy());
  CHECK(inf::Chat::from_json({{"status", "awaiting_input"}}).is_busy());
  CHECK_FALSE(inf::Chat::from_json({{"status", "completed"}}).is_busy());
  CHECK(
      inf::Chat::from_json({{"status", "idle"}, {"active_run", {{"state", "working"}}}}).is_busy());
  CHECK(inf::Chat::from_json({{"status", "idle"}, {"active_run", {{"state", "input_required"}}}})
            .is_busy());
  CHECK_FALSE(inf::Chat::from_json({{"status", "busy"}, {"active_run", {{"state", "completed"}}}})
                  .is_busy());
  CHECK(inf::to_string(inf::ChatStatus::awaiting_input) == "awaiting_input");
  CHECK(inf::parse_tool_invocation_status("awaiting_approval") ==
        inf::ToolInvocationStatus::awaiting_approval);
  CHECK(inf::parse_message_status("nope") == inf::MessageStatus::unknown);
}
