// Task webhooks over real sockets: a scripted server receives what infsh-local POSTs when a task
// created with a `webhook` ends.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "local_runtime_fixture.hpp"
#include "support/scripted_server.hpp"

#include "local/support/logger.hpp"
#include "local/tasks/webhook_deliverer.hpp"

namespace inf = inferencesh;
using inferencesh::testing::RecordedRequest;
using inferencesh::testing::Reply;
using inferencesh::testing::ScriptedServer;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

infsh::local::RuntimeOptions webhook_options() {
  auto options = LocalRuntime::quiet();
  options.webhook_retry_delay = 20ms;
  return options;
}

bool settled(LocalRuntime& local) {
  return wait_until([&] { return local.runtime().stats().webhooks_pending == 0; }, 10s);
}

std::vector<RecordedRequest> requests_to(const ScriptedServer& server, const std::string& path) {
  std::vector<RecordedRequest> found;
  for (const auto& request : server.requests()) {
    if (request.path == path) found.push_back(request);
  }
  return found;
}

}  // namespace

TEST_CASE("a task webhook is POSTed the final task once when the task completes") {
  ScriptedServer receiver([](const RecordedRequest&) { return Reply::status(204); });
  LocalRuntime local(webhook_options());
  auto client = local.client();
  const std::string url = receiver.base_url() + "/hooks/task?token=s3cret";
  const json input = {{"text", "héllo"}, {"n", 1}};
  const inf::Task task =
      client.tasks.run({{"app", "infsh/echo"}, {"input", input}, {"webhook", url}});
  REQUIRE(task.status == inf::TaskStatus::completed);

  REQUIRE(receiver.wait_for_requests(1, 10s));
  REQUIRE(settled(local));
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 1);
  const RecordedRequest& hook = requests.front();
  CHECK(hook.method == "POST");
  CHECK(hook.target == "/hooks/task?token=s3cret");
  CHECK(hook.header("Content-Type") == "application/json");
  CHECK(hook.header("User-Agent").value_or("").rfind("infsh-local/", 0) == 0);
  CHECK(hook.header("webhook-id").value_or("").rfind("whd_", 0) == 0);
  CHECK(hook.header("webhook-timestamp").has_value());
  CHECK_FALSE(hook.header("Authorization").has_value());

  const json body = hook.json();
  CHECK(body.at("event") == "task.completed");
  CHECK(body.at("timestamp").get<std::string>().back() == 'Z');
  // The task exactly as GET /tasks/{id} shows it.
  const auto got =
      http_request(local.port(), "GET", "/tasks/" + task.id, {}, {{"X-API-Version", "2"}});
  REQUIRE(got.status == 200);
  CHECK(body.at("data") == got.json());
  CHECK(body.at("data").at("status") == 10);
  CHECK(body.at("data").at("output") == input);
  CHECK(body.at("data").at("webhook") == url);

  const auto stats = local.runtime().stats();
  CHECK(stats.webhooks_delivered == 1);
  CHECK(stats.webhook_attempts == 1);
}

TEST_CASE("failed and cancelled tasks send their webhook with the final state") {
  ScriptedServer receiver([](const RecordedRequest&) { return Reply::status(200); });
  LocalRuntime local(webhook_options());
  auto client = local.client();

  CHECK_THROWS_AS(client.tasks.run({{"app", "infsh/fail"},
                                    {"input", {{"message", "out of ideas"}}},
                                    {"webhook", receiver.base_url() + "/failed"}}),
                  inf::TaskFailedError);
  REQUIRE(receiver.wait_for_requests(1, 10s));
  const json failed = requests_to(receiver, "/failed").at(0).json();
  CHECK(failed.at("event") == "task.failed");
  CHECK(failed.at("data").at("status") == 11);
  CHECK(failed.at("data").at("error") == "out of ideas");

  const inf::Task queued = client.tasks.run({{"app", "infsh/progress"},
                                             {"input", {{"steps", 1000}, {"delay_ms", 50}}},
                                             {"webhook", receiver.base_url() + "/cancelled"}},
                                            {.wait = false});
  REQUIRE(
      wait_until([&] { return client.tasks.get(queued.id).status == inf::TaskStatus::running; }));
  client.tasks.cancel(queued.id);
  REQUIRE(receiver.wait_for_requests(2, 10s));
  const json cancelled = requests_to(receiver, "/cancelled").at(0).json();
  CHECK(cancelled.at("event") == "task.cancelled");
  CHECK(cancelled.at("data").at("id") == queued.id);
  CHECK(cancelled.at("data").at("status") == 12);

  REQUIRE(settled(local));
  CHECK(receiver.request_count() == 2);
  CHECK(local.runtime().stats().webhooks_delivered == 2);
}

TEST_CASE("a webhook answered 503 is retried with the same webhook-id until it is delivered") {
  inferencesh::testing::Router routes;
  routes.on("POST", "/hook", Reply::status(503))
      .on("POST", "/hook", Reply::status(503).header("Retry-After", "0"))
      .on("POST", "/hook", Reply::status(200));
  ScriptedServer receiver(routes.handler());
  LocalRuntime local(webhook_options());
  auto client = local.client();
  const inf::Task task = client.tasks.run(
      {{"app", "infsh/echo"}, {"input", {{"a", 1}}}, {"webhook", receiver.base_url() + "/hook"}});
  REQUIRE(task.status == inf::TaskStatus::completed);

  REQUIRE(receiver.wait_for_requests(3, 10s));
  REQUIRE(settled(local));
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& request : requests) {
    CHECK(request.header("webhook-id") == requests.front().header("webhook-id"));
    CHECK(request.body == requests.front().body);
  }
  const auto stats = local.runtime().stats();
  CHECK(stats.webhooks_delivered == 1);
  CHECK(stats.webhook_attempts == 3);
  CHECK(stats.webhooks_failed == 0);
}

TEST_CASE("a refused webhook is not retried, and one that keeps failing is given up") {
  inferencesh::testing::Router routes;
  routes.on("POST", "/gone", Reply::status(404))
      .on("POST", "/moved", Reply::status(302).header("Location", "/elsewhere"))
      .on("POST", "/down", Reply::status(500));
  ScriptedServer receiver(routes.handler());
  auto options = webhook_options();
  options.webhook_attempts = 3;
  LocalRuntime local(options);
  auto client = local.client();
  for (const char* path : {"/gone", "/moved", "/down"}) {
    client.tasks.run({{"app", "infsh/echo"}, {"webhook", receiver.base_url() + path}});
  }
  REQUIRE(receiver.wait_for_requests(5, 10s));
  REQUIRE(settled(local));
  CHECK(requests_to(receiver, "/gone").size() == 1);
  CHECK(requests_to(receiver, "/moved").size() == 1);
  CHECK(requests_to(receiver, "/elsewhere").empty());  // redirects are not followed
  CHECK(requests_to(receiver, "/down").size() == 3);
  const auto stats = local.runtime().stats();
  CHECK(stats.webhooks_failed == 3);
  CHECK(stats.webhooks_delivered == 0);
}

TEST_CASE("a stalled webhook receiver holds up neither the task nor the runtime's stop") {
  ScriptedServer receiver([](const RecordedRequest&) { return Reply::status(200).stall(); });
  auto options = webhook_options();
  options.webhook_timeout = 60s;
  options.shutdown_grace = 200ms;
  auto local = std::make_unique<LocalRuntime>(options);
  auto client = local->client();
  const std::string url = receiver.base_url() + "/slow";

  const inf::Task first = client.tasks.run({{"app", "infsh/echo"}, {"webhook", url}});
  CHECK(first.status == inf::TaskStatus::completed);
  REQUIRE(receiver.wait_for_requests(1, 10s));
  // The delivery is stuck in flight; tasks go on completing meanwhile.
  const inf::Task second = client.tasks.run({{"app", "infsh/echo"}, {"webhook", url}});
  CHECK(second.status == inf::TaskStatus::completed);
  CHECK(local->runtime().stats().webhooks_pending >= 1);

  // stop() gives up on the stalled attempts after its grace, not after their 60 s time limit.
  const auto started = std::chrono::steady_clock::now();
  local.reset();
  CHECK(std::chrono::steady_clock::now() - started < 30s);
}

TEST_CASE("a task cancelled by the runtime's stop still gets its webhook") {
  ScriptedServer receiver([](const RecordedRequest&) { return Reply::status(200); });
  auto local = std::make_unique<LocalRuntime>(webhook_options());
  auto client = local->client();
  const inf::Task queued = client.tasks.run({{"app", "infsh/progress"},
                                             {"input", {{"steps", 1000}, {"delay_ms", 50}}},
                                             {"webhook", receiver.base_url() + "/hook"}},
                                            {.wait = false});
  REQUIRE(
      wait_until([&] { return client.tasks.get(queued.id).status == inf::TaskStatus::running; }));
  local.reset();
  REQUIRE(receiver.request_count() == 1);
  const json body = receiver.requests().front().json();
  CHECK(body.at("event") == "task.cancelled");
  CHECK(body.at("data").at("id") == queued.id);
}

TEST_CASE("a webhook that points at the runtime itself is refused with 400 naming the field") {
  auto options = webhook_options();
  options.webhook_attempts = 1;  // the accepted ones below go nowhere: no retries at stop
  LocalRuntime local(options);
  const std::string port = std::to_string(local.port());
  const auto post = [&](const std::string& webhook) {
    return http_request(local.port(), "POST", "/apps/run",
                        json{{"app", "infsh/echo"}, {"webhook", webhook}}.dump());
  };
  for (const std::string& url : {
           "http://127.0.0.1:" + port + "/apps/run",
           "http://localhost:" + port,
           "http://LocalHost.:" + port + "/",
           "http://api.localhost:" + port + "/x",
           "http://[::1]:" + port + "/",
           "http://[::ffff:127.0.0.1]:" + port,
           "http://127.1:" + port,
           "http://2130706433:" + port,
           "http://0x7f.0.0.1:" + port,
           "http://127.9.9.9:" + port,
           "http://0.0.0.0:" + port,
           "http://user:pw@127.0.0.1:" + port + "/",
           "HTTP://127.0.0.1:" + port + "?q#f",
       }) {
    INFO(url);
    const auto response = post(url);
    CHECK(response.status == 400);
    CHECK(response.json().value("detail", "").find("'webhook'") != std::string::npos);
  }
  CHECK(local.runtime().stats().tasks == 0);

  for (const std::string& url : {
           std::string("ftp://example.com/hook"),
           std::string("file:///etc/passwd"),
           "127.0.0.1:" + port,
           std::string("http://"),
           std::string("http://example.com:99999/"),
           std::string("http://exa mple.com/"),
       }) {
    INFO(url);
    const auto response = post(url);
    CHECK(response.status == 422);
    CHECK(response.json().value("detail", "").find("'webhook'") != std::string::npos);
  }

  // Another port on loopback is another server; an empty webhook is none.
  const std::string other = std::to_string(local.port() == 65535 ? 65534 : local.port() + 1);
  CHECK(post("http://127.0.0.1:" + other + "/hook").status == 200);
  CHECK(post("").status == 200);
}

TEST_CASE("the webhook queue is bounded: deliveries beyond it are dropped, not waited for") {
  ScriptedServer receiver([](const RecordedRequest&) { return Reply::status(200).stall(); });
  const infsh::local::Logger log(infsh::local::LogLevel::off, {});
  infsh::local::WebhookSettings settings;
  settings.threads = 1;
  settings.max_queued = 2;
  settings.attempt_timeout = 60s;
  infsh::local::WebhookDeliverer deliverer(settings, inferencesh::make_curl_transport(), log);
  CHECK(deliverer.deliver(receiver.base_url() + "/1", {{"n", 1}}));
  REQUIRE(receiver.wait_for_requests(1, 10s));  // in flight, stalled
  CHECK(deliverer.deliver(receiver.base_url() + "/2", {{"n", 2}}));
  CHECK_FALSE(deliverer.deliver(receiver.base_url() + "/3", {{"n", 3}}));
  CHECK(deliverer.stats().dropped == 1);
  CHECK(deliverer.stats().pending == 2);
  deliverer.stop(0ms);  // aborts the stalled attempt and drops the queued one
  const auto stats = deliverer.stats();
  CHECK(stats.dropped == 3);
  CHECK(stats.pending == 0);
  CHECK(receiver.request_count() == 1);
}
