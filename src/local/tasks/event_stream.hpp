#pragma once

// The task update stream (GET /tasks/{id}/stream): NDJSON or SSE chosen by Accept; the full
// task first on every connect, then the full task after every change, heartbeats while idle,
// and the final state as the last line before the response ends.

#include <chrono>
#include <string>
#include <string_view>

#include "http/http_message.hpp"
#include "tasks/task_engine.hpp"

namespace infsh::local {

enum class StreamFormat { ndjson, sse };

/// SSE when Accept names text/event-stream before (or without) application/x-ndjson; NDJSON
/// otherwise, including for a missing Accept or */*.
StreamFormat negotiate_stream_format(const Request& request) noexcept;

/// One event as it goes on the wire: "<json>\n" or "data: <json>\n\n".
std::string frame_event(StreamFormat format, std::string_view json_text);

/// The idle line: {"type":"heartbeat"} for NDJSON, an SSE comment for SSE.
std::string heartbeat_frame(StreamFormat format);

/// The streaming response for a task known to exist.
Response task_stream_response(TaskEngine& engine, const std::string& task_id, StreamFormat format,
                              std::chrono::milliseconds heartbeat_interval);

}  // namespace infsh::local
