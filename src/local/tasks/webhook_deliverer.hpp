#pragma once

// Delivers task webhooks: when a task that was created with a `webhook` URL ends (completed,
// failed or cancelled), that URL gets one POST of
//
//   {"event": "task.completed", "timestamp": "<RFC 3339>", "data": <the final TaskDTO>}
//
// (the platform's WebhookPayload envelope; `data` is the task as GET /tasks/{id} returns it),
// with `Content-Type: application/json`, `User-Agent: infsh-local/<version> (webhook)`, and the
// Standard Webhooks headers `webhook-id` (the same on every attempt of one delivery, so a
// receiver can drop duplicates) and `webhook-timestamp` (Unix seconds of this attempt).
//
// Off the task's path: deliver() only queues (bounded; a full queue drops the delivery with a
// warning), and a few threads of its own send through the client library's libcurl transport.
// Each attempt has a time limit; connection errors, timeouts and the statuses of
// common::is_retryable_status (408, 429, 500, 502, 503, 504) are retried with exponential
// backoff and jitter (a Retry-After up to the longest backoff is honoured), up to a number of
// attempts. Any other answer ends the delivery: 2xx delivered, the rest
// (3xx included: redirects are never followed) failed. Log lines show the URL without its
// query, which is where webhook URLs tend to carry their secrets.
//
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/cancellation.hpp"
#include "inferencesh/transport.hpp"
#include "support/logger.hpp"

namespace infsh::local {

struct WebhookSettings {
  std::chrono::milliseconds attempt_timeout{10000};   ///< per attempt, connection included
  int max_attempts = 5;                               ///< the first attempt included
  std::chrono::milliseconds first_retry_delay{1000};  ///< doubled after every retry
  std::chrono::milliseconds max_retry_delay{30000};
  std::size_t max_queued = 1000;  ///< deliveries waiting, retrying or in flight
  std::size_t threads = 2;
};

/// The body of a delivery: {event: "task.<status name>", timestamp, data: task}.
nlohmann::json webhook_payload(const nlohmann::json& task, std::string_view status_name,
                               std::chrono::system_clock::time_point now);

class WebhookDeliverer {
 public:
  WebhookDeliverer(WebhookSettings settings, std::shared_ptr<inferencesh::Transport> transport,
                   const Logger& log);
  /// Stops without a grace period (see stop()).
  ~WebhookDeliverer();
  WebhookDeliverer(const WebhookDeliverer&) = delete;
  WebhookDeliverer& operator=(const WebhookDeliverer&) = delete;

  /// Queues a delivery of `body` to `url`; never blocks (it is called under the task engine's
  /// lock). False, and the delivery dropped, when the queue is full or stop() has begun.
  bool deliver(std::string url, const nlohmann::json& body);

  /// Takes no more deliveries, lets those queued or waiting to retry finish until `grace` has
  /// passed, then abandons the rest (attempts in flight are aborted) and joins the threads.
  /// Idempotent.
  void stop(std::chrono::milliseconds grace);

  struct Stats {
    std::uint64_t delivered = 0;  ///< answered 2xx
    std::uint64_t failed = 0;     ///< given up: a final refusal or out of attempts
    std::uint64_t dropped = 0;    ///< never attempted: queue full, or abandoned at stop
    std::uint64_t attempts = 0;   ///< requests sent, retries included
    std::size_t pending = 0;      ///< queued, waiting to retry or in flight
  };
  Stats stats() const;

 private:
  struct Delivery {
    std::string url;
    std::string body;
    std::string id;  // webhook-id
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
  };
  struct LaterFirst {
    bool operator()(const Delivery& a, const Delivery& b) const { return a.due > b.due; }
  };
  enum class Verdict { delivered, retry, failed };

  void run();
  // One attempt; on `retry`, `delay` is at least what the server asked for (Retry-After).
  Verdict attempt(const Delivery& delivery, std::chrono::milliseconds& delay);
  std::chrono::milliseconds backoff(int attempt) const;

  const WebhookSettings settings_;
  const std::shared_ptr<inferencesh::Transport> transport_;
  const Logger& log_;
  const inferencesh::CancellationToken cancel_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::priority_queue<Delivery, std::vector<Delivery>, LaterFirst> queue_;
  std::vector<std::thread> threads_;  // started with the first delivery
  std::size_t in_flight_ = 0;
  bool accepting_ = true;
  bool stopping_ = false;
  Stats stats_;
};

}  // namespace infsh::local
