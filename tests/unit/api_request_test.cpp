#include <map>

#include <catch2/catch.hpp>

#include "api_request.hpp"
#include "inferencesh/errors.hpp"
#include "inferencesh/version.hpp"

namespace inf = inferencesh;
namespace detail = inferencesh::detail;

namespace {

detail::EnvironmentLookup fake_environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

detail::ResolvedOptions resolved_with_key(std::string key = "sk-test") {
  inf::ClientOptions options;
  options.api_key = std::move(key);
  return detail::resolve_options(options, fake_environment({}));
}

}  // namespace

TEST_CASE("explicit options win over the environment, which wins over defaults", "[config]") {
  const auto env = fake_environment(
      {{"INFERENCE_API_KEY", "env-key"}, {"INFERENCE_API_BASE_URL", "http://env.example/"}});

  const auto from_env = detail::resolve_options({}, env);
  CHECK(from_env.api_key == "env-key");
  CHECK(from_env.base_url == "http://env.example");

  inf::ClientOptions explicit_options;
  explicit_options.api_key = "explicit-key";
  explicit_options.base_url = "https://explicit.example";
  const auto from_options = detail::resolve_options(explicit_options, env);
  CHECK(from_options.api_key == "explicit-key");
  CHECK(from_options.base_url == "https://explicit.example");

  const auto defaults = detail::resolve_options({}, fake_environment({}));
  CHECK(defaults.api_key.empty());
  CHECK(defaults.base_url == "https://api.inference.sh");
}

TEST_CASE("a base URL that is not http or https is refused", "[config]") {
  inf::ClientOptions options;
  options.base_url = "ftp://example.com";
  CHECK_THROWS_AS(detail::resolve_options(options, fake_environment({})), inf::ConfigurationError);
}

TEST_CASE("a call without an API key is a configuration error that says how to fix it",
          "[config]") {
  const auto options = detail::resolve_options({}, fake_environment({}));
  detail::ApiCall call;
  call.path = "/tasks/x";
  try {
    detail::build_request(options, call);
    FAIL("expected ConfigurationError");
  } catch (const inf::ConfigurationError& e) {
    CHECK_THAT(e.what(), Catch::Contains("INFERENCE_API_KEY"));
  }
}

TEST_CASE("requests carry auth, identity and JSON headers, and no API version", "[request]") {
  inf::ClientOptions options;
  options.api_key = "sk-test";
  options.user_agent_suffix = "myapp/2";
  options.extra_headers = {{"X-Team", "blue"}};
  const auto resolved = detail::resolve_options(options, fake_environment({}));

  detail::ApiCall call;
  call.method = "POST";
  call.path = "/apps/run";
  call.body = nlohmann::json{{"app", "a"}};
  const auto request = detail::build_request(resolved, call);

  CHECK(request.url == "https://api.inference.sh/apps/run");
  CHECK(request.method == "POST");
  CHECK(nlohmann::json::parse(request.body) == nlohmann::json{{"app", "a"}});
  CHECK(inf::find_header(request.headers, "authorization") == "Bearer sk-test");
  CHECK(inf::find_header(request.headers, "content-type") == "application/json");
  CHECK(inf::find_header(request.headers, "accept") == "application/json");
  CHECK(inf::find_header(request.headers, "user-agent") ==
        std::string("inferencesh-cpp/") + inf::kVersion + " myapp/2");
  CHECK(inf::find_header(request.headers, "x-client-source") ==
        std::string("inference-sdk-cpp/") + inf::kVersion);
  CHECK(inf::find_header(request.headers, "x-team") == "blue");
  CHECK_FALSE(inf::find_header(request.headers, "x-api-version").has_value());
  CHECK(request.url.find("sk-test") == std::string::npos);
}

TEST_CASE("a GET carries no body and no content type", "[request]") {
  detail::ApiCall call;
  call.path = "/tasks/abc";
  const auto request = detail::build_request(resolved_with_key(), call);
  CHECK(request.body.empty());
  CHECK_FALSE(inf::find_header(request.headers, "content-type").has_value());
}

TEST_CASE("an idempotency key is sent and makes a POST idempotent", "[request]") {
  detail::ApiCall call;
  call.method = "POST";
  call.path = "/apps/run";
  CHECK_FALSE(detail::is_idempotent(call));
  call.idempotency_key = "run-42";
  CHECK(detail::is_idempotent(call));
  const auto request = detail::build_request(resolved_with_key(), call);
  CHECK(inf::find_header(request.headers, "idempotency-key") == "run-42");

  for (const char* method : {"GET", "HEAD", "PUT", "DELETE"}) {
    detail::ApiCall plain;
    plain.method = method;
    CHECK(detail::is_idempotent(plain));
  }
}

TEST_CASE("ids are percent-encoded so they cannot change the path", "[request]") {
  CHECK(detail::encode_path_segment("task_AZ-09.~") == "task_AZ-09.~");
  CHECK(detail::encode_path_segment("a/../b") == "a%2F..%2Fb");
  CHECK(detail::encode_path_segment("..") == "%2E%2E");
  CHECK(detail::encode_path_segment("x?y#z") == "x%3Fy%23z");
  CHECK(detail::encode_path_segment("日") == "%E6%97%A5");
}

TEST_CASE("joining the base URL and a path yields exactly one slash", "[request]") {
  CHECK(detail::join_url("http://h", "/a") == "http://h/a");
  CHECK(detail::join_url("http://h/", "/a") == "http://h/a");
  CHECK(detail::join_url("http://h//", "a") == "http://h/a");
  CHECK(detail::join_url("http://h/base", "/a") == "http://h/base/a");
}

TEST_CASE("stream requests ask for the given media type and use the idle timeout", "[request]") {
  auto resolved = resolved_with_key();
  resolved.wait.stream_idle_timeout = std::chrono::milliseconds(1234);
  const auto request =
      detail::build_stream_request(resolved, "/tasks/t1/stream", "application/x-ndjson");
  CHECK(request.method == "GET");
  CHECK(request.url == "https://api.inference.sh/tasks/t1/stream");
  CHECK(inf::find_header(request.headers, "accept") == "application/x-ndjson");
  CHECK(inf::find_header(request.headers, "authorization") == "Bearer sk-test");
  CHECK(request.idle_timeout == std::chrono::milliseconds(1234));
  CHECK(request.timeout == std::chrono::milliseconds(0));
}
