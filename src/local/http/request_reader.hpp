#pragma once

// Reads HTTP/1.1 requests out of the bytes a connection receives, and enforces every limit
// that does not depend on the endpoint: the size of the head; chunk extensions and trailers
// (they count against the head's limit, in total per request); the transfer coding (chunked
// alone, or Content-Length); and, once the connection has chosen it, the size of the body.
// Beast's parser does the parsing behind this Beast-free interface; the connection and the fuzz
// target (tests/fuzz/fuzz_request_reader.cpp) drive the same code.
//
//   RequestReader reader({.max_header_bytes = 16384});
//   for (;;) {
//     const auto space = reader.space();          // receive bytes into it
//     reader.commit(::recv(fd, space.data, space.size, 0));
//     for (auto event = reader.next(); event.kind != RequestReader::Kind::need_more;
//          event = reader.next()) { ... head, body pieces, done, or an error to answer ... }
//   }
//
// The buffer holds at most max_header_bytes plus one read (64 KiB): bytes are taken from the
// client only as fast as the events are taken from the reader.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_message.hpp"

namespace infsh::local {

struct RequestLimits {
  /// The request line and header fields; separately, chunk extensions and trailer fields
  /// together. A larger head or trailer section is answered with 431.
  std::size_t max_header_bytes = std::size_t{16} * 1024;
};

class RequestReader {
 public:
  enum class Kind {
    need_more,  ///< receive more bytes (into space()), then call next() again
    head,       ///< the head is complete: see request()
    body,       ///< the next bytes of the body: Event::body
    done,       ///< the request is complete; start_next() begins the next one
    error,      ///< the request cannot be read on: answer Event::status, then close
  };
  struct Event {
    Kind kind = Kind::need_more;
    std::string_view body;  ///< Kind::body: valid until the next call of a non-const member
    int status = 0;         ///< Kind::error: 400, 413, 431 or 501
    std::string message;    ///< Kind::error: what was wrong, naming the limit
  };
  struct Space {
    char* data = nullptr;
    std::size_t size = 0;
  };

  explicit RequestReader(RequestLimits limits);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  /// Room for the next received bytes; never empty. Valid until the next call of a member.
  Space space();
  /// `n` bytes were written at the start of space().
  void commit(std::size_t n) noexcept;

  /// What the bytes received so far tell. After Kind::error, always that error again.
  Event next();

  /// The request being read, complete with its head once Kind::head was returned: method,
  /// target, path, query, headers, keep_alive (as the client asked), has_body. Its body is left
  /// to the caller.
  Request& request() noexcept { return request_; }
  bool http11() const noexcept { return http11_; }
  /// The head asked for "100 Continue" before sending its body.
  bool expects_continue() const noexcept { return expects_continue_; }
  /// The declared Content-Length; nullopt for chunked bodies and bodiless requests.
  std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }

  /// Caps the body of this request, after its head. Returns the refusal message at once when
  /// its Content-Length is larger; a chunked body that grows larger gives a 413 error event.
  std::optional<std::string> limit_body(std::uint64_t max_bytes);

  /// Begins the next request; bytes already received (pipelined) are kept.
  void start_next();
  /// Frees the buffer and drops what it holds (check buffered() first to keep pipelined
  /// bytes): idle connections and streams keep no buffer.
  void release_buffer() noexcept;
  /// Bytes received and not yet parsed.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  /// How large the buffer can grow.
  std::size_t buffer_limit() const noexcept { return capacity_limit_; }

 private:
  class Parser;
  friend class Parser;
  static Event only(Kind kind);
  static Event body_event(std::string_view bytes);
  Event fail(int status, std::string message);

  RequestLimits limits_;
  std::unique_ptr<Parser> parser_;
  std::vector<char> buffer_;  // its size: the bytes it can take now
  std::size_t capacity_limit_ = 0;
  std::size_t begin_ = 0;  // first byte not yet parsed
  std::size_t end_ = 0;    // one past the last byte received

  Request request_;
  bool http11_ = true;
  bool expects_continue_ = false;
  std::optional<std::uint64_t> content_length_;
  bool head_reported_ = false;
  std::size_t head_bytes_ = 0;     // parsed bytes of the head so far
  std::string transfer_encoding_;  // every Transfer-Encoding value, comma-joined
  std::size_t trailer_bytes_ = 0;  // chunk extensions and trailer fields so far
  std::optional<std::uint64_t> body_limit_;
  std::uint64_t body_bytes_ = 0;
  std::string_view piece_;  // the body bytes the parser handed over in the last step
  std::optional<Event> error_;
};

}  // namespace infsh::local
