// Agent templates through the local runtime over real sockets: `--agent ns/name=FILE.json`
// files, POST /agents, GET /agents/{id} and /agents/{namespace}/{name}, POST /agents/list,
// DELETE /agents/{id}, GET /agents/internal-tools, and configs that are refused.

#include <catch2/catch.hpp>

#include <signal.h>

#include "local_runtime_fixture.hpp"
#include "support/subprocess.hpp"

using nlohmann::json;
using namespace infsh::local;
using namespace infsh::local::testing;

namespace {

json data_of(const RawResponse& response, int status = 200) {
  INFO(response.status << " " << response.body);
  REQUIRE(response.status == status);
  return response.json().at("data");
}

}  // namespace

TEST_CASE("agent templates from --agent files and POST /agents are found, listed and deleted") {
  TempDir dir;
  const auto file = dir.write("helper.json", json{{"description", "helps"},
                                                  {"system_prompt", "you help"},
                                                  {"example_prompts", {"hi"}},
                                                  {"core_app", {{"ref", "infsh/echo"}}},
                                                  {"internal_tools", {{"finish", true}}}}
                                                 .dump());
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_templates.push_back(parse_agent_template("acme/helper=" + file.string()));
  LocalRuntime local(options);
  const auto port = local.port();

  const json agent = data_of(http_request(port, "GET", "/agents/acme/helper"));
  CHECK(agent.at("id").get<std::string>().rfind("agent_", 0) == 0);
  CHECK(agent.at("namespace") == "acme");
  CHECK(agent.at("name") == "helper");
  CHECK(agent.at("version").at("description") == "helps");
  CHECK(agent.at("version").at("system_prompt") == "you help");
  CHECK(agent.at("version").at("example_prompts") == json::array({"hi"}));
  CHECK(agent.at("version").at("core_app") == json{{"ref", "infsh/echo"}});
  CHECK(agent.at("version").at("internal_tools") == json{{"finish", true}});
  // The React client asks with the full reference; ids and short ids work too.
  CHECK(data_of(http_request(port, "GET", "/agents/acme/helper@abc123")).at("id") ==
        agent.at("id"));
  CHECK(data_of(http_request(port, "GET", "/agents/" + agent.at("id").get<std::string>()))
            .at("name") == "helper");
  CHECK(data_of(http_request(port, "GET", "/agents/" + agent.at("short_id").get<std::string>()))
            .at("name") == "helper");
  CHECK(http_request(port, "GET", "/agents/acme/nobody").status == 404);

  const json created = data_of(http_request(
      port, "POST", "/agents",
      json{{"name", "writer"},
           {"namespace", "acme"},
           {"version", {{"system_prompt", "write"}, {"core_app", {{"ref", "infsh/echo"}}}}}}
          .dump()));
  CHECK(created.at("version").at("system_prompt") == "write");
  const std::string writer = created.at("id");
  // A new version of the same agent.
  const json changed = data_of(http_request(
      port, "POST", "/agents",
      json{{"id", writer},
           {"name", "writer"},
           {"namespace", "acme"},
           {"version", {{"system_prompt", "write more"}, {"core_app", {{"ref", "infsh/echo"}}}}}}
          .dump()));
  CHECK(changed.at("id") == writer);
  CHECK(changed.at("version_id") != created.at("version_id"));
  CHECK(
      data_of(http_request(port, "GET", "/agents/acme/writer")).at("version").at("system_prompt") ==
      "write more");

  const json listed = data_of(http_request(port, "POST", "/agents/list", R"({"limit": 1})"));
  CHECK(listed.at("total_items") == 2);
  REQUIRE(listed.at("items").size() == 1);
  CHECK(listed.at("items")[0].at("name") == "writer");  // newest first
  CHECK(listed.at("has_next") == true);
  const json rest =
      data_of(http_request(port, "POST", "/agents/list",
                           json{{"limit", 1}, {"cursor", listed.at("next_cursor")}}.dump()));
  CHECK(rest.at("items")[0].at("name") == "helper");
  CHECK(rest.at("has_next") == false);
  CHECK(data_of(http_request(port, "POST", "/agents/list", R"({"search": {"term": "HELP"}})"))
            .at("total_items") == 1);

  const json internal = data_of(http_request(port, "GET", "/agents/internal-tools"));
  std::vector<std::string> groups;
  for (const auto& group : internal) {
    groups.push_back(group.at("id"));
    CHECK(group.at("tools").is_array());
    CHECK(group.contains("default_enabled"));
  }
  CHECK(groups == std::vector<std::string>{"plan", "memory", "finish"});

  CHECK(data_of(http_request(port, "DELETE", "/agents/" + writer)).is_null());
  CHECK(http_request(port, "GET", "/agents/" + writer).status == 404);
  CHECK(http_request(port, "DELETE", "/agents/" + writer).status == 404);
}

TEST_CASE("agent templates are kept in the data directory for the next runtime") {
  TempDir data;
  RuntimeOptions options = LocalRuntime::quiet();
  options.data_dir = data.path().string();
  std::string id;
  {
    LocalRuntime local(options);
    id = data_of(http_request(
                     local.port(), "POST", "/agents",
                     json{{"name", "kept"}, {"version", {{"core_app", {{"ref", "infsh/echo"}}}}}}
                         .dump()))
             .at("id");
  }
  LocalRuntime local(options);
  CHECK(data_of(http_request(local.port(), "GET", "/agents/local/kept")).at("id") == id);
}

TEST_CASE("an --agent file that is not an AgentConfig stops the runtime from starting, naming it") {
  TempDir dir;
  const auto file = dir.write("bad.json", R"({"core_app": {"ref": "infsh/echo"}, "tools": 3})");
  RuntimeOptions options = LocalRuntime::quiet();
  options.agent_templates.push_back({"acme/bad", file.string()});
  try {
    Runtime runtime(options);
    FAIL("the runtime was built");
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    CHECK(message.find("acme/bad") != std::string::npos);
    CHECK(message.find("'agent.tools'") != std::string::npos);
  }
  options.agent_templates = {{"acme/missing", (dir.path() / "missing.json").string()}};
  CHECK_THROWS_WITH(Runtime(options), Catch::Contains("cannot read the file"));
  CHECK_THROWS_WITH(parse_agent_template("acme-bad=x.json"), Catch::Contains("NAMESPACE/NAME"));
  CHECK_THROWS_WITH(parse_agent_template("acme/bad"), Catch::Contains("NAMESPACE/NAME=FILE.json"));
}

TEST_CASE("bad agent bodies are refused naming the field") {
  LocalRuntime local;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"name": "x"})", "'version.core_app'"},
      {R"({"name": "a b", "version": {"core_app": {"ref": "x/y"}}})", "'name'"},
      {R"({"version": {"core_app": {"ref": "x/y"}}})", "'name'"},
      {R"({"name": "x", "version": {"core_app": {"ref": "nope"}}})", "'version.core_app.ref'"},
      {R"({"name": "x", "version": {"core_app": {"ref": "x/y"}, "tools": [{"name": "t"}]}})",
       "'version.tools[0].type'"},
      {R"({"name": "x", "version": {"core_app": {"ref": "x/y"}, "tools": [{"name": "t", "type": "http", "http": {"url": "ftp://x"}}]}})",
       "'version.tools[0].http.url'"},
      {R"({"name": "x", "version": {"core_app": {"ref": "x/y"}, "internal_tools": {"plan": "yes"}}})",
       "'version.internal_tools.plan'"},
      {R"({"name": "x", "version": {"core_app": {"ref": "x/y"}, "output_schema": 1}})",
       "'version.output_schema'"},
      {R"({"id": "agent_nope", "name": "x", "version": {"core_app": {"ref": "x/y"}}})",
       "agent 'agent_nope' not found"},
  };
  for (const auto& [body, says] : cases) {
    INFO(body);
    const RawResponse response = http_request(local.port(), "POST", "/agents", body);
    CHECK((response.status == 422 || response.status == 404));
    CHECK(response.json().at("detail").get<std::string>().find(says) != std::string::npos);
  }
  CHECK(http_request(local.port(), "POST", "/agents/list", R"({"limit": 0})").status == 422);
  CHECK(http_request(local.port(), "GET", "/agents/agent_nope").status == 404);
  CHECK(http_request(local.port(), "DELETE", "/agents/agent_nope").status == 404);
}

TEST_CASE("infsh-local --help names the agent options and what secrets do for agents' tools") {
  using inferencesh::testing::Subprocess;
  Subprocess help({INFSH_LOCAL_PROGRAM, "--help"});
  CHECK(help.wait(std::chrono::seconds(10)) == 0);
  const std::string text = help.output();
  CHECK_THAT(text, Catch::Contains("--agent NS/NAME=FILE.json"));
  CHECK_THAT(text, Catch::Contains("--agent-max-steps N") && Catch::Contains("(default 32)"));
  CHECK_THAT(text, Catch::Contains("--secret NAME=VALUE"));
  // An http or hook tool of an agent takes its secrets from there too.
  CHECK_THAT(text, Catch::Contains("${{secrets.NAME}}"));
}

TEST_CASE("infsh-local serves --agent files and explains --agent in --help") {
  using inferencesh::testing::Subprocess;
  Subprocess help({INFSH_LOCAL_PROGRAM, "--help"});
  CHECK(help.wait(std::chrono::seconds(10)) == 0);
  CHECK_THAT(help.output(), Catch::Contains("--agent NS/NAME=FILE.json"));

  Subprocess bad({INFSH_LOCAL_PROGRAM, "--agent", "no-slash=x.json"});
  CHECK(bad.wait(std::chrono::seconds(10)) == 1);
  CHECK_THAT(bad.output(), Catch::Contains("--agent") && Catch::Contains("NAMESPACE/NAME"));

  TempDir dir;
  const auto file =
      dir.write("a.json", R"({"core_app": {"ref": "infsh/echo"}, "system_prompt": "s"})");
  Subprocess served(
      {INFSH_LOCAL_PROGRAM, "--agent", "acme/cli=" + file.string(), "--log-level", "off"});
  const auto line = served.read_line_containing("http://", std::chrono::seconds(10));
  REQUIRE(line);
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  CHECK(data_of(http_request(port, "GET", "/agents/acme/cli")).at("version").at("system_prompt") ==
        "s");
  served.signal(SIGTERM);
  CHECK(served.wait(std::chrono::seconds(10)) == 0);
}
