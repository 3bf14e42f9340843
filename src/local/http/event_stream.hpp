#pragma once

// Event streams: NDJSON or SSE chosen by Accept, their framing and their response, for the
// task stream (tasks/task_api.cpp) and the chat stream (chats/chat_api.cpp) alike.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_message.hpp"

namespace infsh::local {

enum class StreamFormat { ndjson, sse };

/// SSE when Accept names text/event-stream before (or without) application/x-ndjson; NDJSON
/// otherwise, including for a missing Accept or */*.
StreamFormat negotiate_stream_format(const Request& request) noexcept;

/// One event as it goes on the wire: "<json>\n" or "data: <json>\n\n".
std::string frame_event(StreamFormat format, std::string_view json_text);

/// One named event: "event: <event>\ndata: <json>\n\n", or {"event":"<event>","data":<json>}
/// as one NDJSON line.
std::string frame_named_event(StreamFormat format, std::string_view event,
                              std::string_view json_text);

/// The idle line: {"type":"heartbeat"} for NDJSON, an SSE comment for SSE.
std::string heartbeat_frame(StreamFormat format);

/// A streaming response in `format`: its Content-Type, no caching or proxy buffering, heartbeats
/// every `heartbeat_interval` while idle. Once the head is queued, `subscribe(sink)` starts
/// sending to the sink and returns a subscription id (0: nothing to drop later), or nullopt
/// when its subject is gone (the stream then ends); `unsubscribe(id)` runs when the stream
/// closes.
Response event_stream_response(
    StreamFormat format, std::chrono::milliseconds heartbeat_interval,
    std::function<std::optional<std::uint64_t>(const std::shared_ptr<StreamSink>& sink)> subscribe,
    std::function<void(std::uint64_t subscription)> unsubscribe);

}  // namespace infsh::local
