// The runtime's task record and its DTO, without sockets.

#include <catch2/catch.hpp>

#include <type_traits>

#include <nlohmann/json.hpp>

#include "inferencesh/task_status.hpp"
#include "local/tasks/task_record.hpp"

namespace inf = inferencesh;
using nlohmann::json;

TEST_CASE("the runtime's task statuses are the client library's, number for number") {
  STATIC_REQUIRE(std::is_same_v<infsh::local::TaskStatus, inf::TaskStatus>);
  for (int number = 0; number <= 12; ++number) {
    INFO(number);
    infsh::local::TaskRecord task;
    task.id = "task_vocabulary";
    task.status = inf::task_status_from_int(number);
    task.events.push_back({"tev_1", "2025-01-01T00:00:00Z", task.status});
    const json dto = infsh::local::to_task_dto(task);
    CHECK(dto.at("status") == number);
    CHECK(dto.at("events").at(0).at("status") == number);
    CHECK(inf::parse_task_status(dto.at("status")) == task.status);
    CHECK(infsh::local::task_record_from_dto(dto).status == task.status);
  }
}

TEST_CASE("a stored task with a status number the API does not have reads back as unknown") {
  infsh::local::TaskRecord task;
  task.id = "task_vocabulary";
  task.status = inf::TaskStatus::running;
  for (const json& odd : {json(13), json(-1), json("running"), json(7.5), json(nullptr)}) {
    INFO(odd.dump());
    json dto = infsh::local::to_task_dto(task);
    dto["status"] = odd;
    CHECK(infsh::local::task_record_from_dto(dto).status == inf::TaskStatus::unknown);
  }
}
