// Secrets for the built-in apps: --secret NAME=VALUE and INFSH_SECRET_<NAME>, read by name,
// never shown (logs, errors, task output, --help, command-line errors).

#include <catch2/catch.hpp>

#include <signal.h>

#include <string>
#include <vector>

#include "local_runtime_fixture.hpp"
#include "support/scripted_server.hpp"
#include "support/secrets.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
using inferencesh::testing::RecordedRequest;
using inferencesh::testing::Reply;
using inferencesh::testing::ScriptedServer;
using inferencesh::testing::Subprocess;
using infsh::local::Secrets;
using nlohmann::json;

TEST_CASE("secrets are found by name, given ones before the environment") {
  const char* environment[] = {"PATH=/bin",
                               "INFSH_SECRET_FROM_ENV=env-value",
                               "INFSH_SECRET_BOTH=env-loses",
                               "INFSH_SECRET_bad-name=x",
                               "INFSH_SECRET_EMPTY=",
                               nullptr};
  const Secrets secrets({{"GIVEN", "given-value"}, {"BOTH", "given-wins"}}, environment);
  CHECK(secrets.find("GIVEN") == "given-value");
  CHECK(secrets.find("FROM_ENV") == "env-value");
  CHECK(secrets.find("BOTH") == "given-wins");
  CHECK(secrets.find("EMPTY") == "");  // set, and empty
  CHECK_FALSE(secrets.find("PATH").has_value());
  CHECK_FALSE(secrets.find("MISSING").has_value());
  CHECK(secrets.names() == std::vector<std::string>{"BOTH", "EMPTY", "FROM_ENV", "GIVEN"});
}

TEST_CASE("redacting replaces every secret value by its name, longest values first") {
  const char* environment[] = {nullptr};
  const Secrets secrets({{"LONG", "abc-123-xyz"}, {"SHORT", "123"}, {"NONE", ""}}, environment);
  CHECK(secrets.redact("key abc-123-xyz, again abc-123-xyz, part 123.") ==
        "key [secret LONG], again [secret LONG], part [secret SHORT].");
  CHECK(secrets.redact("nothing here") == "nothing here");
}

TEST_CASE("a --secret value that is not NAME=VALUE is refused without quoting it") {
  CHECK(infsh::local::parse_secret_spec("KEY=a=b") ==
        std::pair<std::string, std::string>("KEY", "a=b"));
  CHECK(infsh::local::parse_secret_spec("KEY=") == std::pair<std::string, std::string>("KEY", ""));
  for (const std::string spec : {"sk-live-0123456789", "1BAD=sk-live-0123456789",
                                 "=sk-live-0123456789", "has space=sk-live-0123456789"}) {
    INFO(spec);
    try {
      infsh::local::parse_secret_spec(spec);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("--secret expects NAME=VALUE"));
      CHECK(std::string(e.what()).find("sk-live") == std::string::npos);
    }
  }
}

TEST_CASE("infsh-local --help lists --secret and its environment variables") {
  Subprocess help({INFSH_LOCAL_PROGRAM, "--help"});
  CHECK(help.wait(std::chrono::seconds(10)) == 0);
  CHECK_THAT(help.output(), Catch::Contains("--secret NAME=VALUE"));
  CHECK_THAT(help.output(), Catch::Contains("INFSH_SECRET_NAME"));
  CHECK_THAT(help.output(), Catch::Contains("infsh/openai-chat"));

  Subprocess bad({INFSH_LOCAL_PROGRAM, "--secret", "sk-oops-4f2a"});
  CHECK(bad.wait(std::chrono::seconds(10)) == 2);
  CHECK_THAT(bad.output(), Catch::Contains("--secret expects NAME=VALUE"));
  CHECK(bad.output().find("sk-oops-4f2a") == std::string::npos);
}

TEST_CASE(
    "infsh-local sends a --secret to the endpoint and shows it nowhere, not even in debug logs") {
  const std::string cli_key = "sk-cli-7Hq2mV";
  const std::string env_key = "sk-env-P0w9Zr";
  // Echoes whatever key arrives, as some providers' 401 messages do.
  ScriptedServer server([](const RecordedRequest& request) {
    return Reply::json(
        401, {{"error",
               {{"message", "bad key " + request.header("Authorization").value_or("(none)")}}}});
  });
  Subprocess child({INFSH_LOCAL_PROGRAM, "--port", "0", "--log-level", "debug", "--secret",
                    "OPENAI_API_KEY=" + cli_key},
                   {"INFSH_SECRET_OTHER_KEY=" + env_key});
  const auto first = child.read_line_containing("http://", std::chrono::seconds(10));
  REQUIRE(first.has_value());
  const std::string url = first->substr(first->find("http://"));
  auto client = inf::inference({.api_key = "k", .base_url = url});

  const auto run = [&](const json& setup) {
    const inf::Task queued = client.tasks.run(
        {{"app", "infsh/openai-chat"}, {"setup", setup}, {"input", {{"text", "hi"}}}},
        {.wait = false});
    CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::TaskFailedError);
    return client.tasks.get(queued.id);
  };
  const json base = {{"base_url", server.base_url() + "/v1"}, {"model", "m"}, {"max_retries", 0}};
  const inf::Task with_cli_key = run(base);
  CHECK_THAT(with_cli_key.error,
             Catch::EndsWith("answered 401: bad key Bearer [secret OPENAI_API_KEY]"));
  json other = base;
  other["api_key_secret"] = "OTHER_KEY";
  const inf::Task with_env_key = run(other);
  CHECK_THAT(with_env_key.error,
             Catch::EndsWith("answered 401: bad key Bearer [secret OTHER_KEY]"));

  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("Authorization") == "Bearer " + cli_key);
  CHECK(requests[1].header("Authorization") == "Bearer " + env_key);

  child.signal(SIGTERM);
  CHECK(child.wait(std::chrono::seconds(20)) == 0);
  CHECK_THAT(child.output(), Catch::Contains("POST /apps/run"));  // debug logs were written
  CHECK(child.output().find(cli_key) == std::string::npos);
  CHECK(child.output().find(env_key) == std::string::npos);
}
