#pragma once

// A scripted HTTP/1.1 server on 127.0.0.1 for tests that must talk to a real socket.
//
// Each request is recorded, then answered by a handler that returns a Reply: a script of what to
// put on the wire (status, headers, body pieces, pauses, a stall or an abrupt drop).
//
//   ScriptedServer server([](const RecordedRequest&) {
//     return Reply::status(200).chunked().send("{\"a\":1}\n").delay(50ms).send("{\"b\":2}\n");
//   });
//   client.get(server.base_url() + "/stream");

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/transport.hpp"

namespace inferencesh::testing {

/// Header fields in the order they were sent or received.
using Headers = inferencesh::Headers;

/// One request as it arrived at the server.
struct RecordedRequest {
  std::string method;         ///< e.g. "POST"
  std::string target;         ///< path and query exactly as sent, e.g. "/tasks?limit=2"
  std::string path;           ///< the target up to '?', e.g. "/tasks"
  std::string query;          ///< the target after '?', without it; empty when there is none
  std::string version;        ///< e.g. "HTTP/1.1"
  Headers headers;            ///< as sent, in order; trailers of a chunked body come last
  std::string body;           ///< decoded body (chunked framing removed)
  std::size_t connection_id;  ///< 1-based index of the TCP connection it arrived on

  /// Value of the first header called `name` (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
  /// The body parsed as JSON; throws nlohmann::json::parse_error when it is not JSON.
  nlohmann::json json() const;
};

/// What the server does for one request: a status line and headers, then a script of actions run
/// in order. The status line and headers go out with the first chunked(), body() or send() call
/// (or at the end when there is none), so a delay() before them delays the whole response and a
/// stall() or drop() before them means no response at all.
///
///   Reply::json(200, {{"id", "t1"}})                      // 200, JSON body, keep-alive
///   Reply::status(200).delay(2s).body("late")            // answer after two seconds
///   Reply::status(200).chunked().send("a").drop()        // one chunk, then a reset connection
class Reply {
 public:
  /// A reply with this status, the standard reason phrase and (so far) an empty body.
  static Reply status(int code);
  /// A reply with this status and `body` serialised with `Content-Type: application/json`.
  static Reply json(int code, const nlohmann::json& body);
  /// Exactly these bytes on the wire, nothing generated; later send()/body() calls add more raw
  /// bytes. The server cannot know where a raw response ends, so it closes the connection after.
  static Reply raw(std::string bytes);

  /// Adds a header. A Content-Length, Transfer-Encoding or Connection given here replaces the
  /// generated one, so a Content-Length larger than the body sent makes a truncated response.
  Reply& header(std::string name, std::string value);
  /// Appends body bytes counted in the generated Content-Length.
  Reply& body(std::string bytes);
  /// Switches to Transfer-Encoding: chunked. Each send() is one chunk; the terminating zero-size
  /// chunk follows the last action unless the script ends in stall() or drop().
  Reply& chunked();
  /// Writes body bytes in one write: a chunk when chunked, unframed bytes otherwise (the response
  /// is then delimited by closing the connection unless body() or a Content-Length header was
  /// given). An empty send() in chunked mode sends nothing (it would end the body).
  Reply& send(std::string bytes);
  /// Like send(), but in pieces of `piece_size` bytes, each its own write (and its own chunk).
  Reply& send_split(std::string bytes, std::size_t piece_size);
  /// Like send(), `times` times over, each its own write (and its own chunk): a body of any
  /// length, even gigabytes, while only `bytes` is held in memory.
  Reply& send_repeated(std::string bytes, std::size_t times);
  /// Pauses before the next action; cut short when the server stops.
  Reply& delay(std::chrono::milliseconds duration);
  /// Stops here and holds the connection open until the client goes away or the server stops.
  Reply& stall();
  /// Resets the connection now (SO_LINGER 0, so the client sees a reset, not a clean end).
  Reply& drop();
  /// Sends `Connection: close` and closes the connection after the reply.
  Reply& close_connection();

 private:
  friend class ReplyWriter;  // puts a Reply on the wire; lives in scripted_server.cpp

  struct Head {};  // position of the status line and headers
  struct Bytes {
    std::string bytes;
    std::size_t piece_size;  // 0: one write
    bool counted;            // from body(): counted in Content-Length
    std::size_t times = 1;   // written this many times over
  };
  struct Delay {
    std::chrono::milliseconds duration;
  };
  struct Stall {};
  struct Drop {};
  using Action = std::variant<Head, Bytes, Delay, Stall, Drop>;

  explicit Reply(int code);
  void place_head();

  int code_ = 200;
  Headers headers_;
  std::vector<Action> actions_;
  std::size_t counted_bytes_ = 0;
  bool head_placed_ = false;
  bool has_counted_body_ = false;
  bool raw_ = false;
  bool chunked_ = false;
  bool close_ = false;
};

/// An HTTP/1.1 server on 127.0.0.1 and a free port, serving from construction until stop() or
/// destruction. Keep-alive, pipelining, chunked request bodies and `Expect: 100-continue` are
/// supported. The accept loop and each connection run on their own threads; the handler is called
/// on the connection's thread, after the request was recorded. A handler that throws makes a 500.
class ScriptedServer {
 public:
  /// Produces the reply for a request; called on connection threads, possibly concurrently.
  using Handler = std::function<Reply(const RecordedRequest&)>;

  /// Binds 127.0.0.1 on a free port and starts serving. Without a handler every request gets a
  /// 404 whose JSON body names the method and path.
  explicit ScriptedServer(Handler handler = {});
  /// Stops (see stop()).
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  /// Replaces the handler for requests that arrive from now on; thread-safe.
  void set_handler(Handler handler);
  /// "http://127.0.0.1:<port>"
  std::string base_url() const;
  /// The port the server listens on.
  std::uint16_t port() const;
  /// Copies of all requests recorded so far, in arrival order; thread-safe.
  std::vector<RecordedRequest> requests() const;
  /// Number of requests recorded so far.
  std::size_t request_count() const;
  /// Number of TCP connections accepted so far.
  std::size_t connection_count() const;
  /// Number of connections that have ended so far, closed by either side.
  std::size_t closed_connection_count() const;
  /// Waits until at least `n` requests were recorded; false when `timeout` passes first.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Waits until at least `n` connections have ended; false when `timeout` passes first.
  bool wait_for_closed_connections(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Closes the listener and every connection (stalled and delayed ones too) and joins all
  /// threads. Idempotent. Must not be called from a handler; waits for running handlers.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// Routes requests by method and path to queued replies or functions. The handler it returns
/// shares the routes, so routes added later still apply. Thread-safe.
///
///   Router router;
///   router.on("POST", "/run", Reply::status(503)).on("POST", "/run", Reply::json(200, task));
///   ScriptedServer server(router.handler());   // 503 first, then 200 for every later call
class Router {
 public:
  /// An empty router.
  Router();

  /// Appends `reply` to the queue of the route. Each request takes the next reply; the last one
  /// repeats. `path` matches the request path exactly, or every path with its prefix when it ends
  /// in '*'; `method` "*" matches any method. Replaces a function given for the same route.
  Router& on(std::string method, std::string path, Reply reply);
  /// Answers the route with `fn`; replaces replies queued for the same route.
  Router& on(std::string method, std::string path, ScriptedServer::Handler fn);
  /// The handler to give to ScriptedServer. Routes are tried in the order first added; an
  /// unknown route gets a 404 whose JSON body names the method and path.
  ScriptedServer::Handler handler();

 private:
  struct Routes;
  std::shared_ptr<Routes> routes_;
};

}  // namespace inferencesh::testing
