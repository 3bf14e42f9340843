// Unary-call overhead: the same N sequential GETs against one local keep-alive server, made by
// (a) a minimal raw libcurl loop that reuses one easy handle (the limit), (b) the SDK's
// transport alone and (c) the full client call, client.tasks.get(id), which also decodes the
// envelope and builds a Task. Rounds alternate between the three so machine noise hits all of
// them alike; the medians and their ratios to raw libcurl are printed.
//
//     unary_bench [requests-per-round=2000] [rounds=7]

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "inferencesh/inferencesh.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using Clock = std::chrono::steady_clock;

namespace {

const nlohmann::json kTask = {{"id", "task_bench"},
                              {"status", 10},
                              {"input", {{"prompt", "a lighthouse at dusk"}}},
                              {"output", {{"text", "done"}}},
                              {"created_at", "2026-11-26T00:00:00Z"},
                              {"updated_at", "2026-11-26T00:00:01Z"}};
constexpr const char* kKey = "sk-bench";

std::size_t append(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

double raw_libcurl(const std::string& url, int n) {
  CURL* easy = curl_easy_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, (std::string("Authorization: Bearer ") + kKey).c_str());
  std::string body;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    body.clear();
    if (curl_easy_perform(easy) != CURLE_OK) std::abort();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return seconds;
}

double sdk_transport(inf::Transport& transport, const std::string& url, int n) {
  inf::HttpRequest request;
  request.url = url;
  request.headers = {{"Accept", "application/json"},
                     {"Authorization", std::string("Bearer ") + kKey}};
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (transport.send(request, {}).status != 200) std::abort();
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double sdk_client(const inf::Client& client, int n) {
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (client.tasks.get("task_bench").status != inf::TaskStatus::completed) std::abort();
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using inferencesh::bench::median;

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
  curl_global_init(CURL_GLOBAL_DEFAULT);

  const std::string body = kTask.dump();
  inf::testing::ScriptedServer server([&](const inf::testing::RecordedRequest&) {
    return inf::testing::Reply::status(200).header("Content-Type", "application/json").body(body);
  });
  const std::string url = server.base_url() + "/tasks/task_bench";
  auto transport = inf::make_curl_transport();
  inf::ClientOptions options;
  options.api_key = kKey;
  options.base_url = server.base_url();
  const auto client = inf::inference(options);

  // Warm up: connections open, caches filled.
  raw_libcurl(url, 50);
  sdk_transport(*transport, url, 50);
  sdk_client(client, 50);

  std::vector<double> raw;
  std::vector<double> transport_only;
  std::vector<double> full;
  for (int round = 0; round < rounds; ++round) {
    raw.push_back(raw_libcurl(url, n));
    transport_only.push_back(sdk_transport(*transport, url, n));
    full.push_back(sdk_client(client, n));
  }
  const double raw_s = median(raw);
  const double transport_s = median(transport_only);
  const double full_s = median(full);
  const auto per_call_us = [n](double seconds) { return seconds / n * 1e6; };
  std::printf("%d sequential GETs per round, %d rounds, median per round\n", n, rounds);
  std::printf("  raw libcurl (one reused easy handle): %8.1f us/call\n", per_call_us(raw_s));
  std::printf("  SDK transport (pool + share + multi):   %8.1f us/call  ratio %.3f\n",
              per_call_us(transport_s), transport_s / raw_s);
  std::printf("  SDK client tasks.get (decode + Task):   %8.1f us/call  ratio %.3f\n",
              per_call_us(full_s), full_s / raw_s);
  std::printf("  connections opened by the server: %zu\n", server.connection_count());
  return 0;
}
