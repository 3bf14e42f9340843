#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace inferencesh::detail {

/// One decoded item of an NDJSON or SSE stream.
struct StreamEvent {
  enum class Kind {
    object,     ///< a full object, e.g. a whole task: `data` holds it
    partial,    ///< `{data, fields}`: `data` holds the changed fields, `fields` their names
    typed,      ///< `{event, data, fields?}` (or SSE `event:` + `data:`): `event` names it
    heartbeat,  ///< `{"type":"heartbeat"}` or an SSE comment line: keeps the stream alive
    invalid,    ///< a payload that was refused; `error` says why, nothing else is set
  };

  Kind kind = Kind::object;
  nlohmann::json data;
  std::vector<std::string> fields;
  std::string event;
  std::string error;  ///< for `invalid`: the reason, quoting the start of the payload (escaped)
};

/// Default bound on one NDJSON line or one SSE event: 16 MiB.
inline constexpr std::size_t kDefaultMaxEventBytes = std::size_t{16} << 20;

/// Classifies one JSON payload (a line, or an SSE event's data) into a StreamEvent.
/// `sse_event` is the SSE `event:` name, empty for NDJSON and for SSE "message" events.
/// A payload that is not valid JSON, not valid UTF-8, nested deeper than kMaxJsonDepth, not an
/// object, or has a field list that is not all strings becomes an `invalid` event: one bad
/// payload spoils nothing after it, and the consumer decides what to do (the task follower logs
/// and skips it). Never throws for the payload's content.
StreamEvent classify_payload(std::string_view payload, std::string_view sse_event = {});

}  // namespace inferencesh::detail
