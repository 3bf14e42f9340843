#include "tasks/webhook_deliverer.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>
#include <string>

#include "common/json_parse.hpp"
#include "common/retryable_status.hpp"
#include "inferencesh/errors.hpp"
#include "inferencesh/version.hpp"
#include "support/id_generator.hpp"
#include "support/time_format.hpp"
#include "tasks/webhook_url.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace {

using Clock = std::chrono::steady_clock;

// The error text with the URL shown as redacted_url() shows it (transport errors quote it).
std::string without_secrets(std::string text, const std::string& url) {
  const std::string shown = redacted_url(url);
  for (auto at = text.find(url); at != std::string::npos; at = text.find(url, at + shown.size())) {
    text.replace(at, url.size(), shown);
  }
  return text;
}

// Retry-After in seconds (an HTTP date is not worth parsing for a webhook); nullopt otherwise.
std::optional<std::chrono::milliseconds> retry_after(const inferencesh::HttpResponse& response) {
  const auto value = response.header("Retry-After");
  if (!value) return std::nullopt;
  unsigned seconds = 0;
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), seconds);
  if (error != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return std::chrono::seconds(std::min(seconds, 86400U));
}

}  // namespace

nlohmann::json webhook_payload(const nlohmann::json& task, std::string_view status_name,
                               std::chrono::system_clock::time_point now) {
  return {{"event", "task." + std::string(status_name)},
          {"timestamp", format_rfc3339(now)},
          {"data", task}};
}

WebhookDeliverer::WebhookDeliverer(WebhookSettings settings,
                                   std::shared_ptr<inferencesh::Transport> transport,
                                   const Logger& log)
    : settings_(settings), transport_(std::move(transport)), log_(log) {}

WebhookDeliverer::~WebhookDeliverer() { stop(std::chrono::milliseconds(0)); }

bool WebhookDeliverer::deliver(std::string url, const nlohmann::json& body) {
  std::lock_guard lock(mutex_);
  if (!accepting_ || queue_.size() + in_flight_ >= settings_.max_queued) {
    ++stats_.dropped;
    log_.warning("webhook to " + redacted_url(url) + " dropped: " +
                 (accepting_
                      ? "the delivery queue is full (" + std::to_string(settings_.max_queued) + ")"
                      : std::string("the runtime is stopping")));
    return false;
  }
  queue_.push({std::move(url), common::compact_json(body), new_id("whd"), 0, Clock::now()});
  if (threads_.empty()) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, settings_.threads); ++i) {
      threads_.emplace_back([this] { run(); });
    }
  }
  changed_.notify_one();
  return true;
}

void WebhookDeliverer::stop(std::chrono::milliseconds grace) {
  std::vector<std::thread> threads;
  {
    std::unique_lock lock(mutex_);
    accepting_ = false;
    changed_.wait_for(lock, grace, [this] { return queue_.empty() && in_flight_ == 0; });
    if (!queue_.empty()) {
      log_.warning("stopping: " + std::to_string(queue_.size()) +
                   " webhook delivery(ies) abandoned");
      stats_.dropped += queue_.size();
      queue_ = {};
    }
    stopping_ = true;
    threads.swap(threads_);
  }
  cancel_.cancel();  // aborts attempts in flight
  changed_.notify_all();
  for (auto& thread : threads) thread.join();
}

WebhookDeliverer::Stats WebhookDeliverer::stats() const {
  std::lock_guard lock(mutex_);
  Stats stats = stats_;
  stats.pending = queue_.size() + in_flight_;
  return stats;
}

std::chrono::milliseconds WebhookDeliverer::backoff(int attempt) const {
  // attempt 1 failed: first_retry_delay; then doubling, capped; ±25 % jitter so receivers that
  // came back are not hit by every retry at once.
  auto delay = settings_.first_retry_delay;
  for (int i = 1; i < attempt && delay < settings_.max_retry_delay; ++i) delay *= 2;
  delay = std::min(delay, settings_.max_retry_delay);
  thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(
      static_cast<double>(delay.count()) * jitter(random)));
}

void WebhookDeliverer::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      changed_.wait(lock);
      continue;
    }
    if (queue_.top().due > Clock::now()) {
      changed_.wait_until(lock, queue_.top().due);
      continue;
    }
    Delivery delivery = queue_.top();
    queue_.pop();
    ++in_flight_;
    ++delivery.attempt;
    lock.unlock();

    std::chrono::milliseconds asked{0};
    const Verdict verdict = attempt(delivery, asked);

    lock.lock();
    --in_flight_;
    ++stats_.attempts;
    if (verdict == Verdict::delivered) {
      ++stats_.delivered;
    } else if (stopping_) {
      ++stats_.dropped;  // aborted by stop()
    } else if (verdict == Verdict::retry && delivery.attempt < settings_.max_attempts) {
      delivery.due = Clock::now() + std::max(backoff(delivery.attempt),
                                             std::min(asked, settings_.max_retry_delay));
      queue_.push(std::move(delivery));
    } else {
      ++stats_.failed;
      log_.warning("webhook to " + redacted_url(delivery.url) + " given up after " +
                   std::to_string(delivery.attempt) + " attempt(s)");
    }
    changed_.notify_all();
  }
}

WebhookDeliverer::Verdict WebhookDeliverer::attempt(const Delivery& delivery,
                                                    std::chrono::milliseconds& delay) {
  inferencesh::HttpRequest request;
  request.method = "POST";
  request.url = delivery.url;
  request.body = delivery.body;
  request.timeout = settings_.attempt_timeout;
  request.connect_timeout = settings_.attempt_timeout;
  const auto unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  request.headers = {
      {"Content-Type", "application/json"},
      {"User-Agent", std::string("infsh-local/") + inferencesh::kVersion + " (webhook)"},
      {"webhook-id", delivery.id},
      {"webhook-timestamp", std::to_string(unix_seconds)},
  };
  const std::string where = redacted_url(delivery.url);
  const std::string attempt_text = " (attempt " + std::to_string(delivery.attempt) + " of " +
                                   std::to_string(settings_.max_attempts) + ")";
  try {
    const auto response = transport_->send(request, cancel_);
    if (response.status >= 200 && response.status < 300) {
      log_.debug("webhook to " + where + " delivered" + attempt_text);
      return Verdict::delivered;
    }
    if (inferencesh::common::is_retryable_status(response.status)) {
      delay = retry_after(response).value_or(std::chrono::milliseconds(0));
      log_.info("webhook to " + where + " answered " + std::to_string(response.status) +
                attempt_text);
      return Verdict::retry;
    }
    log_.warning("webhook to " + where + " refused with " + std::to_string(response.status) +
                 (response.status >= 300 && response.status < 400 ? " (redirects are not followed)"
                                                                  : std::string()));
    return Verdict::failed;
  } catch (const inferencesh::CancelledError&) {
    return Verdict::retry;                           // stop(): counted as dropped by run()
  } catch (const inferencesh::ConnectionError& e) {  // TimeoutError included
    log_.info("webhook to " + where + " failed" + attempt_text + ": " +
              without_secrets(e.what(), delivery.url));
    return Verdict::retry;
  } catch (const std::exception& e) {
    log_.warning("webhook to " + where + " failed: " + without_secrets(e.what(), delivery.url));
    return Verdict::failed;
  }
}

}  // namespace infsh::local
