#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "inferencesh/task.hpp"
#include "inferencesh/task_status.hpp"

namespace inf = inferencesh;
using nlohmann::json;

TEST_CASE("task status numbers are the ones the wire uses today", "[task_status]") {
  CHECK(static_cast<int>(inf::TaskStatus::unknown) == 0);
  CHECK(static_cast<int>(inf::TaskStatus::received) == 1);
  CHECK(static_cast<int>(inf::TaskStatus::queued) == 2);
  CHECK(static_cast<int>(inf::TaskStatus::dispatched) == 3);
  CHECK(static_cast<int>(inf::TaskStatus::preparing) == 4);
  CHECK(static_cast<int>(inf::TaskStatus::serving) == 5);
  CHECK(static_cast<int>(inf::TaskStatus::setting_up) == 6);
  CHECK(static_cast<int>(inf::TaskStatus::running) == 7);
  CHECK(static_cast<int>(inf::TaskStatus::cancelling) == 8);
  CHECK(static_cast<int>(inf::TaskStatus::uploading) == 9);
  CHECK(static_cast<int>(inf::TaskStatus::completed) == 10);
  CHECK(static_cast<int>(inf::TaskStatus::failed) == 11);
  CHECK(static_cast<int>(inf::TaskStatus::cancelled) == 12);
}

TEST_CASE("task status names round-trip through to_string and parsing", "[task_status]") {
  for (int i = 0; i <= 12; ++i) {
    const auto status = static_cast<inf::TaskStatus>(i);
    CHECK(inf::task_status_from_string(inf::to_string(status)) == status);
    CHECK(inf::task_status_from_int(i) == status);
  }
  CHECK(inf::to_string(inf::TaskStatus::setting_up) == "setting_up");
  std::ostringstream out;
  out << inf::TaskStatus::completed;
  CHECK(out.str() == "completed");
}

TEST_CASE("task status parsing accepts ints, any-case strings and null", "[task_status]") {
  CHECK(inf::parse_task_status(json(10)) == inf::TaskStatus::completed);
  CHECK(inf::parse_task_status(json(7.0)) == inf::TaskStatus::running);
  CHECK(inf::parse_task_status(json("COMPLETED")) == inf::TaskStatus::completed);
  CHECK(inf::parse_task_status(json("Setting_Up")) == inf::TaskStatus::setting_up);
  CHECK(inf::parse_task_status(json("scheduled")) == inf::TaskStatus::dispatched);
  CHECK(inf::parse_task_status(json(nullptr)) == inf::TaskStatus::unknown);
  CHECK(inf::parse_task_status(json("exploded")) == inf::TaskStatus::unknown);
  CHECK(inf::parse_task_status(json(13)) == inf::TaskStatus::unknown);
  CHECK(inf::parse_task_status(json(-1)) == inf::TaskStatus::unknown);
  CHECK(inf::parse_task_status(json(7.5)) == inf::TaskStatus::unknown);
  CHECK(inf::parse_task_status(json::object()) == inf::TaskStatus::unknown);
}

TEST_CASE("exactly completed, failed and cancelled are terminal", "[task_status]") {
  for (int i = 0; i <= 12; ++i) {
    const auto status = static_cast<inf::TaskStatus>(i);
    CHECK(inf::is_terminal(status) == (i == 10 || i == 11 || i == 12));
  }
}

TEST_CASE("a task is built from its JSON and keeps the fields it does not model", "[task]") {
  const json raw = {
      {"id", "task_1"},
      {"status", 10},
      {"input", {{"prompt", "hi"}}},
      {"output", {{"text", "hello"}}},
      {"session_id", "sess_1"},
      {"app_id", "infsh/echo"},
      {"logs",
       json::array({{{"content", "step 1"}, {"log_type", 1}, {"created_at", "t"}}, "plain"})},
      {"created_at", "2026-01-01T00:00:00Z"},
      {"rating", "safe"},
  };
  const auto task = inf::Task::from_json(raw);
  CHECK(task.id == "task_1");
  CHECK(task.status == inf::TaskStatus::completed);
  CHECK(task.is_terminal());
  CHECK(task.output["text"] == "hello");
  CHECK(task.session_id == "sess_1");
  CHECK(task.app == "infsh/echo");
  REQUIRE(task.logs.size() == 2);
  CHECK(task.logs[0].content == "step 1");
  CHECK(task.logs[0].log_type == 1);
  CHECK(task.logs[1].content == "plain");
  CHECK(task.raw["rating"] == "safe");
  CHECK(task.error.empty());
}

TEST_CASE("a task with fields of the wrong type is built without throwing", "[task]") {
  const json raw = {{"id", 5}, {"status", "weird"}, {"logs", "not a list"}, {"error", 3}};
  inf::Task task;
  REQUIRE_NOTHROW(task = inf::Task::from_json(raw));
  CHECK(task.id.empty());
  CHECK(task.status == inf::TaskStatus::unknown);
  CHECK(task.logs.empty());
  CHECK(task.error.empty());
  CHECK_NOTHROW(inf::Task::from_json(json::array()));
}
