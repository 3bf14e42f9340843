#include "http/event_stream.hpp"

#include <optional>

namespace infsh::local {

StreamFormat negotiate_stream_format(const Request& request) noexcept {
  const auto accept = request.header("Accept");
  if (!accept) return StreamFormat::ndjson;
  const auto sse = accept->find("text/event-stream");
  const auto ndjson = accept->find("application/x-ndjson");
  if (sse != std::string_view::npos && (ndjson == std::string_view::npos || sse < ndjson)) {
    return StreamFormat::sse;
  }
  return StreamFormat::ndjson;
}

std::string frame_event(StreamFormat format, std::string_view json_text) {
  std::string frame;
  if (format == StreamFormat::sse) {
    frame.reserve(json_text.size() + 8);
    frame += "data: ";
    frame += json_text;
    frame += "\n\n";
  } else {
    frame.reserve(json_text.size() + 1);
    frame += json_text;
    frame += '\n';
  }
  return frame;
}

std::string frame_named_event(StreamFormat format, std::string_view event,
                              std::string_view json_text) {
  std::string frame;
  if (format == StreamFormat::sse) {
    frame.reserve(json_text.size() + event.size() + 16);
    frame.append("event: ").append(event).append("\ndata: ").append(json_text).append("\n\n");
  } else {
    frame.reserve(json_text.size() + event.size() + 24);
    frame.append(R"({"event":")").append(event).append(R"(","data":)").append(json_text);
    frame += "}\n";
  }
  return frame;
}

std::string heartbeat_frame(StreamFormat format) {
  return format == StreamFormat::sse ? ": heartbeat\n\n" : "{\"type\":\"heartbeat\"}\n";
}

Response event_stream_response(
    StreamFormat format, std::chrono::milliseconds heartbeat_interval,
    std::function<std::optional<std::uint64_t>(const std::shared_ptr<StreamSink>& sink)> subscribe,
    std::function<void(std::uint64_t subscription)> unsubscribe) {
  Response response;
  response.status = 200;
  response.headers = {
      {"Content-Type", format == StreamFormat::sse ? "text/event-stream" : "application/x-ndjson"},
      {"Cache-Control", "no-cache"},
      {"X-Accel-Buffering", "no"},
  };
  auto body = std::make_shared<StreamingBody>();
  body->heartbeat = heartbeat_frame(format);
  body->heartbeat_interval = heartbeat_interval;
  body->attach = [subscribe = std::move(subscribe),
                  unsubscribe = std::move(unsubscribe)](const std::shared_ptr<StreamSink>& sink) {
    const auto subscription = subscribe(sink);
    if (!subscription) {
      sink->finish();  // the subject vanished between the lookup and now
    } else if (*subscription != 0) {
      sink->on_close([unsubscribe, id = *subscription] { unsubscribe(id); });
    }
  };
  response.stream = std::move(body);
  return response;
}

}  // namespace infsh::local
