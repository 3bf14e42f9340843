#pragma once

// HTTP requests and responses as the runtime's handlers see them, free of any networking
// library: the connection (Beast) converts to and from these, so endpoint code stays light to
// compile and easy to test.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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
  bool has_body = false;  ///< the head announced a body (chunked, or Content-Length above 0)

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

/// A response body of known length that is produced piece by piece, e.g. a stored file: the
/// connection asks for the next piece only when the previous ones are nearly written, so a
/// large body never sits in memory.
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// Produces the next bytes (at most `max_bytes`, at least one) and passes them to `deliver`,
  /// once, from any thread; nullopt when they cannot be produced (the connection then closes,
  /// so the client sees a short body).
  virtual void read(std::size_t max_bytes,
                    std::function<void(std::optional<std::string> bytes)> deliver) = 0;
};

class PendingAnswer;

/// A response: complete (`body`), streamed over time (`stream` set), pulled from a source of
/// known length (`source` and `content_length` set), or given later (`pending` set: the
/// response sent is the one given to it; the rest of this one is ignored).
struct Response {
  int status = 200;
  HeaderList headers;  ///< Content-Length, Transfer-Encoding and Connection are added for you
  std::string body;
  std::shared_ptr<StreamingBody> stream;
  std::shared_ptr<BodySource> source;
  std::uint64_t content_length = 0;  ///< the length of what `source` produces
  std::shared_ptr<PendingAnswer> pending;

  /// Sets (replaces) a header.
  Response& set_header(std::string name, std::string value);
};

/// An answer a handler gives later (say, once what it changed is on disk), without holding up
/// the event loop meanwhile: it returns a Response whose `pending` is this, and calls give()
/// once, from any thread, before or after the connection takes it up.
class PendingAnswer {
 public:
  /// The response to send. Only the first call counts.
  void give(Response response);
  /// Sets a header on the response, whenever it is given.
  void set_header(std::string name, std::string value);
  /// Called by the connection: `send` gets the response (at once, if it was already given).
  void on_given(std::function<void(Response)> send);

 private:
  std::mutex mutex_;
  std::optional<Response> given_;
  std::function<void(Response)> send_;
  HeaderList headers_;
  bool done_ = false;
};

/// Takes in a request body piece by piece as it arrives, for bodies too large to hold in
/// memory (uploads). The connection calls it on the event loop, so it must not block there;
/// slow work (disk) belongs on another thread.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  /// The next bytes of the body, in order. Call `consumed` once (from any thread) when done
  /// with them: the connection stops reading from the client while too many bytes are
  /// unconsumed. Return a response to refuse the rest of the body: it is sent at once, the
  /// connection closes after it, and abort() follows.
  virtual std::optional<Response> data(std::string bytes, std::function<void()> consumed) = 0;
  /// The whole body arrived. Answer by calling `respond` once, from any thread.
  virtual void end(std::function<void(Response)> respond) = 0;
  /// The body will not be complete: the client went away, stalled, or broke the framing, or a
  /// refusal from data() was sent. Called at most once, and never after end().
  virtual void abort() = 0;
};

/// How a request body is taken in: whole, into Request::body (neither member set; the
/// server's body limit applies), piece by piece by `reader`, or not at all (`refusal` is sent
/// before any of the body is read, and the connection closes).
struct BodyPlan {
  std::shared_ptr<BodyReader> reader;
  std::optional<Response> refusal;
};

/// The percent-decoded value of the first `name=value` pair of a query string, if present (a
/// malformed escape is kept as it is; '+' stays '+').
std::optional<std::string> query_parameter(std::string_view query, std::string_view name);

/// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status) noexcept;

/// Produces the response to a request. Called on the event loop: must not block.
using RequestHandler = std::function<Response(Request&)>;

/// Decides how the body of a request is read, given its head (`body` still empty), or refuses
/// the request. Called on the event loop for every request, before any of its body is read.
using BodyPlanner = std::function<BodyPlan(Request& head)>;

}  // namespace infsh::local
