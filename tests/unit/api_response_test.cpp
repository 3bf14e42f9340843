#include <catch2/catch.hpp>

#include "api_response.hpp"
#include "inferencesh/errors.hpp"
#include "secret_redaction.hpp"

namespace inf = inferencesh;
namespace detail = inferencesh::detail;
using nlohmann::json;

namespace {

inf::HttpResponse response(int status, std::string body, inf::Headers headers = {}) {
  inf::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

detail::ApiResult decode(int status, const std::string& body) {
  return detail::decode_success(response(status, body), "GET", "http://h/x", "sk-secret");
}

template <typename Error>
Error raised(const inf::HttpResponse& r) {
  try {
    detail::throw_api_error(r, "GET", "http://h/tasks/t1", "sk-secret");
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    FAIL("wrong exception type: " << e.what());
  }
  FAIL("nothing thrown");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a bare DTO is returned as the payload", "[envelope]") {
  const auto result = decode(200, R"({"id":"t1","status":7})");
  CHECK(result.data == json{{"id", "t1"}, {"status", 7}});
  CHECK(result.messages.empty());
}

TEST_CASE("the {data, messages} envelope is unwrapped and its messages surfaced", "[envelope]") {
  const auto result = decode(
      200,
      R"({"data":{"id":"t1"},"messages":[{"level":"warning","code":"DEPRECATED","message":"old","meta":{"v":1}},7]})");
  CHECK(result.data == json{{"id", "t1"}});
  REQUIRE(result.messages.size() == 1);
  CHECK(result.messages[0].level == "warning");
  CHECK(result.messages[0].code == "DEPRECATED");
  CHECK(result.messages[0].message == "old");
  CHECK(result.messages[0].meta == json{{"v", 1}});
}

TEST_CASE("the v1 {success, data} envelope is unwrapped", "[envelope]") {
  CHECK(decode(200, R"({"success":true,"status":200,"data":{"id":"t1"},"messages":[]})").data ==
        json{{"id", "t1"}});
  CHECK(decode(200, R"({"success":true,"data":null})").data.is_null());
}

TEST_CASE("a v1 envelope with success false is an error even with a 2xx status", "[envelope]") {
  try {
    decode(200, R"({"success":false,"error":{"code":"BAD","message":"nope"}})");
    FAIL("expected ApiError");
  } catch (const inf::ApiError& e) {
    CHECK(e.status() == 200);
    CHECK(e.detail() == "nope");
    CHECK(e.code() == "BAD");
  }
}

TEST_CASE("204, an empty body and null all give a null payload", "[envelope]") {
  CHECK(decode(204, "").data.is_null());
  CHECK(decode(200, "").data.is_null());
  CHECK(decode(200, "null").data.is_null());
}

TEST_CASE("arrays and scalars pass through as the payload", "[envelope]") {
  CHECK(decode(200, "[1,2]").data == json::array({1, 2}));
  CHECK(decode(200, "\"x\"").data == "x");
}

TEST_CASE("a 2xx body that is not JSON is a decode error naming the call", "[envelope]") {
  try {
    decode(200, "<html>oops</html>");
    FAIL("expected DecodeError");
  } catch (const inf::DecodeError& e) {
    CHECK_THAT(e.what(), Catch::Contains("GET http://h/x"));
    CHECK_THAT(e.what(), Catch::Contains("not JSON"));
  }
}

TEST_CASE("error statuses map to their typed exceptions", "[errors]") {
  CHECK(raised<inf::BadRequestError>(response(400, "{}")).status() == 400);
  CHECK(raised<inf::AuthenticationError>(response(401, "{}")).status() == 401);
  CHECK(raised<inf::PermissionDeniedError>(response(403, "{}")).status() == 403);
  CHECK(raised<inf::NotFoundError>(response(404, "{}")).status() == 404);
  CHECK(raised<inf::ConflictError>(response(409, "{}")).status() == 409);
  CHECK(raised<inf::GoneError>(response(410, "{}")).status() == 410);
  CHECK(raised<inf::RequirementsNotMetError>(response(412, "{}")).status() == 412);
  CHECK(raised<inf::UnprocessableEntityError>(response(422, "{}")).status() == 422);
  CHECK(raised<inf::RateLimitError>(response(429, "{}")).status() == 429);
  CHECK(raised<inf::ServerError>(response(500, "{}")).status() == 500);
  CHECK(raised<inf::ServerError>(response(503, "{}")).status() == 503);
  CHECK(raised<inf::ApiError>(response(418, "{}")).status() == 418);
}

TEST_CASE("session errors are raised from the status and code the server sends", "[errors]") {
  const auto body = [](const char* code) {
    return json{{"detail", "x"}, {"success", false}, {"error", {{"code", code}, {"message", "x"}}}}
        .dump();
  };
  CHECK(raised<inf::SessionNotFoundError>(response(404, body("SESSION_NOT_FOUND"))).code() ==
        "SESSION_NOT_FOUND");
  CHECK(raised<inf::SessionExpiredError>(response(410, body("SESSION_EXPIRED"))).status() == 410);
  CHECK(raised<inf::SessionEndedError>(response(410, body("SESSION_ENDED"))).status() == 410);
  CHECK(raised<inf::WorkerLostError>(response(500, body("WORKER_LOST"))).status() == 500);
  // A top-level code works too.
  CHECK(raised<inf::SessionExpiredError>(response(410, R"({"code":"SESSION_EXPIRED"})")).status() ==
        410);
}

TEST_CASE("the error detail prefers detail, then title, then message, then error.message",
          "[errors]") {
  CHECK(raised<inf::NotFoundError>(
            response(404, R"({"detail":"d","title":"t","message":"m","error":{"message":"e"}})"))
            .detail() == "d");
  CHECK(raised<inf::NotFoundError>(response(404, R"({"title":"t","message":"m"})")).detail() ==
        "t");
  CHECK(raised<inf::NotFoundError>(response(404, R"({"message":"m"})")).detail() == "m");
  CHECK(raised<inf::NotFoundError>(
            response(404, R"({"success":false,"error":{"code":"NOT_FOUND","message":"e"}})"))
            .detail() == "e");
  CHECK(raised<inf::NotFoundError>(response(404, R"({"error":"plain"})")).detail() == "plain");
  CHECK(raised<inf::NotFoundError>(response(404, R"({"other":1})")).detail() == R"({"other":1})");
  CHECK(raised<inf::ServerError>(response(502, "Bad Gateway from proxy")).detail() ==
        "Bad Gateway from proxy");
  CHECK(raised<inf::ServerError>(response(502, std::string(2000, 'x'))).detail().size() == 500);
}

TEST_CASE("an error message names status, detail, call and request id", "[errors]") {
  const auto error = raised<inf::NotFoundError>(
      response(404, R"({"detail":"task not found"})", {{"X-Request-Id", "req-7"}}));
  CHECK(std::string(error.what()) == "HTTP 404: task not found [GET /tasks/t1, request id req-7]");
  CHECK(error.request_id() == "req-7");
  CHECK(error.method() == "GET");
  CHECK(error.url() == "http://h/tasks/t1");
  CHECK(error.body() == R"({"detail":"task not found"})");
}

TEST_CASE("a 412 carries its requirements and their first message", "[errors]") {
  const json body = {
      {"errors",
       {{{"type", "secret"},
         {"key", "OPENAI_API_KEY"},
         {"message", "add your OpenAI key"},
         {"action", {{"type", "add_secret"}, {"secret_key", "ignored"}}}},
        {{"type", "integration"},
         {"key", "google"},
         {"message", "connect Google"},
         {"action", {{"type", "connect"}, {"provider", "google"}, {"scopes", {"drive"}}}}}}}};
  const auto error = raised<inf::RequirementsNotMetError>(response(412, body.dump()));
  CHECK(error.detail() == "add your OpenAI key");
  REQUIRE(error.errors().size() == 2);
  CHECK(error.errors()[0].type == "secret");
  CHECK(error.errors()[0].key == "OPENAI_API_KEY");
  CHECK(error.errors()[1].action["provider"] == "google");
  CHECK(error.errors()[1].action["scopes"] == json::array({"drive"}));

  const auto empty = raised<inf::RequirementsNotMetError>(response(412, R"({"errors":[]})"));
  CHECK(empty.detail() == "requirements not met");
  CHECK(empty.errors().empty());
}

TEST_CASE("a 429 exposes Retry-After in seconds or as an HTTP date", "[errors]") {
  CHECK(raised<inf::RateLimitError>(response(429, "{}", {{"Retry-After", "7"}})).retry_after() ==
        std::chrono::seconds(7));
  CHECK_FALSE(raised<inf::RateLimitError>(response(429, "{}")).retry_after().has_value());

  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37
  CHECK(detail::parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now) ==
        std::chrono::seconds(30));
  CHECK(detail::parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now) == std::chrono::seconds(0));
  CHECK_FALSE(detail::parse_retry_after("soon", now).has_value());
  CHECK_FALSE(detail::parse_retry_after("", now).has_value());
}

TEST_CASE("the API key never appears in an error, even when the server echoes it", "[errors]") {
  const std::string body = R"({"detail":"bad key sk-secret","error":{"code":"sk-secret"}})";
  const auto error = raised<inf::AuthenticationError>(response(401, body));
  CHECK(std::string(error.what()).find("sk-secret") == std::string::npos);
  CHECK(error.body().find("sk-secret") == std::string::npos);
  CHECK(error.detail().find("sk-secret") == std::string::npos);
  CHECK(error.code().find("sk-secret") == std::string::npos);
}

TEST_CASE("redaction replaces every occurrence and leaves text without the secret alone",
          "[errors]") {
  CHECK(detail::redact("a KEY b KEY", "KEY") == "a *** b ***");
  CHECK(detail::redact("nothing here", "KEY") == "nothing here");
  CHECK(detail::redact("KEY", "") == "KEY");
}
