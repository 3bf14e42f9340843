#include "infsh/context.hpp"

#include <cstdlib>
#include <memory>

#include "common/cancellation.hpp"

namespace infsh {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

Metadata Metadata::from_environment() {
  Metadata metadata;
  metadata.app_id = environment("APP_ID");
  metadata.app_version_id = environment("APP_VERSION_ID");
  metadata.app_variant = environment("APP_VARIANT");
  metadata.worker_id = environment("WORKER_ID");
  return metadata;
}

void Metadata::update(const nlohmann::json& values) {
  if (!values.is_object()) return;
  for (const auto& item : values.items()) {
    const auto text = [&item](std::string& field) {
      if (item.value().is_string()) {
        field = item.value().get<std::string>();
      } else if (item.value().is_null()) {
        field.clear();
      }
    };
    if (item.key() == "app_id") {
      text(app_id);
    } else if (item.key() == "app_version_id") {
      text(app_version_id);
    } else if (item.key() == "app_variant") {
      text(app_variant);
    } else if (item.key() == "worker_id") {
      text(worker_id);
    } else {
      extra[item.key()] = item.value();
    }
  }
}

nlohmann::json Metadata::to_json() const {
  nlohmann::json json = extra.is_object() ? extra : nlohmann::json::object();
  if (!app_id.empty()) json["app_id"] = app_id;
  if (!app_version_id.empty()) json["app_version_id"] = app_version_id;
  if (!app_variant.empty()) json["app_variant"] = app_variant;
  if (!worker_id.empty()) json["worker_id"] = worker_id;
  return json;
}

namespace detail {

struct CancellationState : inferencesh::common::CancellationState {};

}  // namespace detail

Context::Context(std::string task_id, std::string function, Metadata metadata, Sink sink)
    : task_id_(std::move(task_id)),
      function_(std::move(function)),
      metadata_(std::move(metadata)),
      sink_(std::move(sink)),
      cancel_(std::make_unique<detail::CancellationState>()) {}

Context::~Context() = default;

bool Context::cancel_requested() const noexcept { return cancel_->is_cancelled(); }

void Context::throw_if_cancelled() const {
  if (cancel_requested()) throw CancelledError();
}

bool Context::wait_for(std::chrono::milliseconds duration) const {
  return !cancel_->wait_for(duration);
}

void Context::request_cancel() noexcept { cancel_->cancel(); }

void Context::log(LogLevel level, std::string_view message) const {
  if (level == LogLevel::off) return;  // a threshold, not a severity: nothing is logged at it
  if (sink_.log) sink_.log(level, std::string(message));
}

void Context::progress(double current, double total, std::string_view message) const {
  if (sink_.progress) sink_.progress(current, total, std::string(message));
}

}  // namespace infsh
