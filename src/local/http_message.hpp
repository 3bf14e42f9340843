#pragma once

// HTTP requests and responses as the runtime's handlers see them, free of any networking
// library: the connection (Beast) converts to and from these, so endpoint code stays light to
// compile and easy to test.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infsh::local {

/// Header fields in order; names compared case-insensitively.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// Case-insensitive ASCII comparison of header names and tokens.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// One parsed request. `path` has repeated slashes collapsed ("//tasks" → "/tasks").
struct Request {
  std::string method;  ///< e.g. "POST"
  std::string target;  ///< as sent, e.g. "/tasks/x?y=1"
  std::string path;    ///< up to '?', percent-decoding left to the handler
  std::string query;   ///< after '?', without it
  HeaderList headers;
  std::string body;
  bool keep_alive = true;

  /// The first header called `name`, if any.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// Where a streaming response writes. Implemented by the connection; safe to call from any
/// thread; never blocks (bytes are queued and written by the event loop).
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  /// Queues `bytes` as one flush (one chunk). Ignored once closed.
  virtual void send(std::string bytes) = 0;
  /// Ends the response after what was queued. Ignored once closed.
  virtual void finish() = 0;
  /// Calls `handler` once when the stream ends for any reason: finished, client gone, or
  /// dropped. Called at once if that already happened. Runs on the event loop.
  virtual void on_close(std::function<void()> handler) = 0;
};

/// The body of a response that is written over time (chunked), e.g. a task stream.
struct StreamingBody {
  /// Called on the event loop once the response head was queued. The sink stays usable for
  /// as long as the handler keeps it.
  std::function<void(std::shared_ptr<StreamSink> sink)> attach;
  /// Written whenever nothing else was written for `heartbeat_interval` (empty: none).
  std::string heartbeat;
  std::chrono::milliseconds heartbeat_interval{0};
};

/// A response: either complete (`body`) or streamed (`stream` set; `body` ignored).
struct Response {
  int status = 200;
  HeaderList headers;  ///< Content-Length, Transfer-Encoding and Connection are added for you
  std::string body;
  std::shared_ptr<StreamingBody> stream;

  /// Sets (replaces) a header.
  Response& set_header(std::string name, std::string value);
};

/// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status) noexcept;

/// Produces the response to a request. Called on the event loop: must not block.
using RequestHandler = std::function<Response(Request&)>;

}  // namespace infsh::local
