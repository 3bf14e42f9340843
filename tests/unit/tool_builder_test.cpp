// The tool builder and parameter helpers of <inferencesh/tools.hpp>, compared with the exact
// JSON the server is sent (the official SDKs' builder cases, with the newest schema rules).

#include <catch2/catch.hpp>

#include <stdexcept>

#include "inferencesh/tools.hpp"

namespace inf = inferencesh;
using nlohmann::json;

namespace {

const json kEmptyInput = {
    {"type", "object"}, {"properties", json::object()}, {"required", json::array()}};

}  // namespace

TEST_CASE("scalar helpers give their type, with a description only when one is given") {
  CHECK(inf::string().json == json{{"type", "string"}});
  CHECK(inf::string("City name").json == json{{"type", "string"}, {"description", "City name"}});
  CHECK(inf::number().json == json{{"type", "number"}});
  CHECK(inf::number("n").json == json{{"type", "number"}, {"description", "n"}});
  CHECK(inf::integer().json == json{{"type", "integer"}});
  CHECK(inf::integer("i").json == json{{"type", "integer"}, {"description", "i"}});
  CHECK(inf::boolean().json == json{{"type", "boolean"}});
  CHECK(inf::boolean("b").json == json{{"type", "boolean"}, {"description", "b"}});
  CHECK_FALSE(inf::string().is_optional);
}

TEST_CASE("enum_of lists its values and object keeps nested properties and a description") {
  CHECK(inf::enum_of({"c", "f"}).json == json{{"type", "string"}, {"enum", {"c", "f"}}});
  CHECK(inf::enum_of({"a"}, "pick").json ==
        json{{"type", "string"}, {"enum", {"a"}}, {"description", "pick"}});
  CHECK(inf::object({{"city", inf::string("City")}, {"zip", inf::integer()}}).json ==
        json{{"type", "object"},
             {"properties",
              {{"city", {{"type", "string"}, {"description", "City"}}},
               {"zip", {{"type", "integer"}}}}},
             {"required", {"city", "zip"}}});
  CHECK(inf::object({}, "empty").json ==
        json{{"type", "object"}, {"properties", json::object()}, {"description", "empty"}});
}

TEST_CASE(
    "array takes its items and a description, optional marks a schema without changing its JSON") {
  CHECK(inf::array(inf::string()).json == json{{"type", "array"}, {"items", {{"type", "string"}}}});
  CHECK(inf::array(inf::number(), "values").json ==
        json{{"type", "array"}, {"items", {{"type", "number"}}}, {"description", "values"}});
  const inf::Schema units = inf::optional(inf::enum_of({"c", "f"}));
  CHECK(units.is_optional);
  CHECK(units.json == json{{"type", "string"}, {"enum", {"c", "f"}}});
}

TEST_CASE(
    "a minimal client tool has its name as display name, an empty description and an empty input "
    "schema") {
  const inf::Tool tool = inf::tool("noop").build();
  CHECK(tool.schema == json{{"name", "noop"},
                            {"display_name", "noop"},
                            {"description", ""},
                            {"type", "client"},
                            {"client", {{"input_schema", kEmptyInput}}}});
  CHECK_FALSE(tool.schema.contains("require_approval"));
  CHECK_FALSE(tool.handler);
  CHECK(tool.name() == "noop");
}

TEST_CASE(
    "describe, description, display and display_name set their fields, and handler is kept apart "
    "and callable") {
  const inf::Tool tool =
      inf::tool("get_weather")
          .describe("Get weather")
          .display_name("Weather")
          .handler([](const json& args) { return "sunny in " + args.value("city", std::string()); })
          .build();
  CHECK(tool.schema.at("description") == "Get weather");
  CHECK(tool.schema.at("display_name") == "Weather");
  REQUIRE(tool.handler);
  CHECK(tool.handler({{"city", "Paris"}}) == "sunny in Paris");
  CHECK(tool.schema.dump().find("handler") == std::string::npos);
  const inf::Tool aliases = inf::tool("t").description("d").display("D").build();
  CHECK(aliases.schema.at("description") == "d");
  CHECK(aliases.schema.at("display_name") == "D");
}

TEST_CASE(
    "params become properties and required in declaration order, optional ones only in "
    "properties") {
  const inf::Tool tool = inf::tool("search")
                             .param("query", inf::string("What to find"))
                             .param("limit", inf::optional(inf::integer()))
                             .param("area", inf::string())
                             .build();
  CHECK(tool.schema.at("client").at("input_schema") ==
        json{{"type", "object"},
             {"properties",
              {{"query", {{"type", "string"}, {"description", "What to find"}}},
               {"limit", {{"type", "integer"}}},
               {"area", {{"type", "string"}}}}},
             {"required", {"query", "area"}}});
  // The seed's form: params() with a list, then more with param().
  const inf::Tool seed = inf::tool("get_weather")
                             .description("Get current weather")
                             .params({{"city", inf::string("City name")}, {"day", inf::string()}})
                             .param("units", inf::optional(inf::enum_of({"c", "f"})))
                             .build();
  CHECK(seed.schema.at("client").at("input_schema") ==
        json{{"type", "object"},
             {"properties",
              {{"city", {{"type", "string"}, {"description", "City name"}}},
               {"day", {{"type", "string"}}},
               {"units", {{"type", "string"}, {"enum", {"c", "f"}}}}}},
             {"required", {"city", "day"}}});
}

TEST_CASE("require_approval sets the flag to true, and false leaves it out") {
  CHECK(inf::tool("t").require_approval().build().schema.at("require_approval") == true);
  CHECK_FALSE(inf::tool("t").require_approval(false).build().schema.contains("require_approval"));
}

TEST_CASE(
    "a nested object gets its own required, without its optional fields or any optional key") {
  const inf::Tool tool =
      inf::tool("t")
          .param("address",
                 inf::object({{"street", inf::string()}, {"unit", inf::optional(inf::string())}}))
          .param("meta", inf::optional(inf::object({{"tag", inf::optional(inf::string())}})))
          .build();
  const json& schema = tool.schema.at("client").at("input_schema");
  CHECK(schema.at("properties").at("address") ==
        json{{"type", "object"},
             {"properties", {{"street", {{"type", "string"}}}, {"unit", {{"type", "string"}}}}},
             {"required", {"street"}}});
  CHECK(schema.at("properties").at("meta") ==
        json{{"type", "object"}, {"properties", {{"tag", {{"type", "string"}}}}}});
  CHECK(schema.at("required") == json{"address"});
  CHECK(tool.schema.dump().find("optional") == std::string::npos);
}

TEST_CASE("an array param gives items of its type, object items with their own required") {
  const inf::Tool tool =
      inf::tool("t")
          .param("tags", inf::array(inf::string()))
          .param("points", inf::array(inf::object(
                               {{"x", inf::number()}, {"label", inf::optional(inf::string())}})))
          .build();
  const json& properties = tool.schema.at("client").at("input_schema").at("properties");
  CHECK(properties.at("tags") == json{{"type", "array"}, {"items", {{"type", "string"}}}});
  CHECK(properties.at("points") ==
        json{{"type", "array"},
             {"items",
              {{"type", "object"},
               {"properties", {{"x", {{"type", "number"}}}, {"label", {{"type", "string"}}}}},
               {"required", {"x"}}}}});
}

TEST_CASE("app tools send ref, function, session, setup and input, and never their params") {
  const auto app = [](const inf::AppToolBuilder& builder) {
    return builder.build().schema.at("app");
  };
  CHECK(app(inf::app_tool("gen", "infsh/flux@abc")) == json{{"ref", "infsh/flux@abc"}});
  CHECK(app(inf::app_tool("gen", "infsh/flux@latest")) == json{{"ref", "infsh/flux@latest"}});
  CHECK(app(inf::app_tool("gen", "a/b@1").function("upscale")) ==
        json{{"ref", "a/b@1"}, {"function", "upscale"}});
  CHECK(app(inf::app_tool("gen", "a/b@1").session_enabled()) ==
        json{{"ref", "a/b@1"}, {"session_enabled", true}});
  CHECK(app(inf::app_tool("gen", "a/b@1").setup({{"model", "x"}})) ==
        json{{"ref", "a/b@1"}, {"setup", {{"model", "x"}}}});
  CHECK(app(inf::app_tool("gen", "a/b@1").input({{"steps", 4}})) ==
        json{{"ref", "a/b@1"}, {"input", {{"steps", 4}}}});
  CHECK(app(inf::app_tool("gen", "a/b@1").setup({{"model", "x"}}).input({{"steps", 4}})) ==
        json{{"ref", "a/b@1"}, {"setup", {{"model", "x"}}}, {"input", {{"steps", 4}}}});
  const inf::Tool all = inf::app_tool("gen", "a/b@1")
                            .describe("Generates")
                            .display_name("Gen")
                            .function("run")
                            .session_enabled()
                            .setup({{"s", 1}})
                            .input({{"i", 2}})
                            .param("prompt", inf::string())
                            .require_approval()
                            .build();
  CHECK(all.schema == json{{"name", "gen"},
                           {"display_name", "Gen"},
                           {"description", "Generates"},
                           {"type", "app"},
                           {"require_approval", true},
                           {"app",
                            {{"ref", "a/b@1"},
                             {"function", "run"},
                             {"session_enabled", true},
                             {"setup", {{"s", 1}}},
                             {"input", {{"i", 2}}}}}});
}

TEST_CASE("agent tools send their ref, with display name and approval") {
  CHECK(inf::agent_tool("helper", "acme/helper@v1").build().schema ==
        json{{"name", "helper"},
             {"display_name", "helper"},
             {"description", ""},
             {"type", "agent"},
             {"agent", {{"ref", "acme/helper@v1"}}}});
  const json tool = inf::agent_tool("helper", "acme/helper@v1")
                        .display_name("Helper")
                        .require_approval()
                        .to_json();
  CHECK(tool.at("display_name") == "Helper");
  CHECK(tool.at("require_approval") == true);
  CHECK(tool.at("agent") == json{{"ref", "acme/helper@v1"}});
}

TEST_CASE(
    "webhook tools are type hook with url, secret and an input schema with an optional enum") {
  CHECK(inf::webhook_tool("notify", "https://example.com/hook")
            .secret("HOOK_SECRET")
            .param("channel", inf::string())
            .param("level", inf::optional(inf::enum_of({"info", "warn"})))
            .build()
            .schema == json{{"name", "notify"},
                            {"display_name", "notify"},
                            {"description", ""},
                            {"type", "hook"},
                            {"hook",
                             {{"url", "https://example.com/hook"},
                              {"secret", "HOOK_SECRET"},
                              {"input_schema",
                               {{"type", "object"},
                                {"properties",
                                 {{"channel", {{"type", "string"}}},
                                  {"level", {{"type", "string"}, {"enum", {"info", "warn"}}}}}},
                                {"required", {"channel"}}}}}}});
  CHECK_FALSE(inf::webhook_tool("n", "https://x").to_json().at("hook").contains("secret"));
}

TEST_CASE(
    "http tools send method and headers, leave POST out, and take integration, api_key and bearer "
    "auth") {
  const json custom = inf::http_tool("get_user", "https://api.example.com/users/{id}")
                          .method("GET")
                          .header("Accept", "application/json")
                          .header("X-Token", "${{secrets.TOKEN}}")
                          .param("id", inf::string())
                          .to_json();
  CHECK(custom.at("type") == "http");
  CHECK(custom.at("http") ==
        json{{"url", "https://api.example.com/users/{id}"},
             {"method", "GET"},
             {"headers", {{"Accept", "application/json"}, {"X-Token", "${{secrets.TOKEN}}"}}},
             {"input_schema",
              {{"type", "object"},
               {"properties", {{"id", {{"type", "string"}}}}},
               {"required", {"id"}}}}});
  const json post = inf::http_tool("p", "https://x").method("POST").to_json().at("http");
  CHECK(post == json{{"url", "https://x"}, {"input_schema", kEmptyInput}});
  CHECK(inf::http_tool("p", "https://x").method("post").to_json().at("http").at("method") ==
        "post");

  CHECK(inf::http_tool("p", "https://x")
            .integration("google", "int_1")
            .to_json()
            .at("http")
            .at("auth") ==
        json{{"type", "integration"}, {"provider", "google"}, {"integration_id", "int_1"}});
  CHECK(inf::http_tool("p", "https://x").integration("slack").to_json().at("http").at("auth") ==
        json{{"type", "integration"}, {"provider", "slack"}});
  CHECK(inf::http_tool("p", "https://x").api_key("MY_KEY").to_json().at("http").at("auth") ==
        json{{"type", "api_key"}, {"secret", "MY_KEY"}, {"header", "X-API-Key"}});
  CHECK(inf::http_tool("p", "https://x")
            .api_key("MY_KEY", "X-Custom")
            .to_json()
            .at("http")
            .at("auth") == json{{"type", "api_key"}, {"secret", "MY_KEY"}, {"header", "X-Custom"}});
  CHECK(inf::http_tool("p", "https://x").bearer("TOKEN").to_json().at("http").at("auth") ==
        json{{"type", "bearer"}, {"secret", "TOKEN"}});
  CHECK(inf::call_tool("c", "https://x").to_json().at("type") == "http");
}

TEST_CASE("mcp tools send the integration id and the tool name") {
  CHECK(inf::mcp_tool("search_docs", "int_42", "search").build().schema ==
        json{{"name", "search_docs"},
             {"display_name", "search_docs"},
             {"description", ""},
             {"type", "mcp"},
             {"mcp", {{"integration_id", "int_42"}, {"tool_name", "search"}}}});
}

TEST_CASE("internal tools send only the flags set, chained, all, none and explicit false") {
  CHECK(inf::internal_tools().build() == json::object());
  CHECK(inf::internal_tools().plan().build() == json{{"plan", true}});
  CHECK(inf::internal_tools().memory().build() == json{{"memory", true}});
  CHECK(inf::internal_tools().widget().build() == json{{"widget", true}});
  CHECK(inf::internal_tools().finish().build() == json{{"finish", true}});
  CHECK(inf::internal_tools().plan().memory(false).finish().build() ==
        json{{"plan", true}, {"memory", false}, {"finish", true}});
  CHECK(inf::internal_tools().all().build() ==
        json{{"plan", true}, {"memory", true}, {"widget", true}, {"finish", true}});
  CHECK(inf::internal_tools().none().build() ==
        json{{"plan", false}, {"memory", false}, {"widget", false}, {"finish", false}});
  CHECK(inf::internal_tools().plan(false).build() == json{{"plan", false}});
}

TEST_CASE("a full fluent chain with nested optional object and array params gives the exact tool") {
  const inf::Tool tool =
      inf::tool("book_trip")
          .describe("Books a trip")
          .display_name("Book trip")
          .param("destination", inf::string("City"))
          .param("travellers", inf::array(inf::object({{"name", inf::string()},
                                                       {"age", inf::optional(inf::integer())}})))
          .param("options", inf::optional(inf::object(
                                {{"class", inf::optional(inf::enum_of({"economy", "business"}))},
                                 {"nights", inf::integer()}},
                                "Extras")))
          .param("tags", inf::optional(inf::array(inf::optional(inf::string()))))
          .require_approval()
          .handler([](const json&) -> std::string { throw std::runtime_error("unused"); })
          .build();
  CHECK(tool.schema ==
        json{{"name", "book_trip"},
             {"display_name", "Book trip"},
             {"description", "Books a trip"},
             {"type", "client"},
             {"require_approval", true},
             {"client",
              {{"input_schema",
                {{"type", "object"},
                 {"properties",
                  {{"destination", {{"type", "string"}, {"description", "City"}}},
                   {"travellers",
                    {{"type", "array"},
                     {"items",
                      {{"type", "object"},
                       {"properties",
                        {{"name", {{"type", "string"}}}, {"age", {{"type", "integer"}}}}},
                       {"required", {"name"}}}}}},
                   {"options",
                    {{"type", "object"},
                     {"description", "Extras"},
                     {"properties",
                      {{"class", {{"type", "string"}, {"enum", {"economy", "business"}}}},
                       {"nights", {{"type", "integer"}}}}},
                     {"required", {"nights"}}}},
                   {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
                 {"required", {"destination", "travellers"}}}}}}});
  CHECK(tool.handler);
}

TEST_CASE("a hand-written schema loses its optional keys and gains required like the helpers") {
  const inf::Schema schema(
      json{{"type", "object"},
           {"optional", true},
           {"properties",
            {{"a", {{"type", "string"}}},
             {"b", {{"type", "string"}, {"optional", true}}},
             {"list",
              {{"type", "array"},
               {"items",
                {{"type", "object"},
                 {"properties", {{"x", {{"type", "number"}, {"optional", true}}}}}}}}}}}});
  CHECK(schema.is_optional);
  CHECK(schema.json ==
        json{{"type", "object"},
             {"properties",
              {{"a", {{"type", "string"}}},
               {"b", {{"type", "string"}}},
               {"list",
                {{"type", "array"},
                 {"items", {{"type", "object"}, {"properties", {{"x", {{"type", "number"}}}}}}}}}}},
             {"required", {"a", "list"}}});
}
