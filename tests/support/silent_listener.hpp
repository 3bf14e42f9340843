#pragma once

// A loopback listener that never accepts: connections complete in the kernel's backlog and
// requests are sent, but no answer ever comes. Holds any number of calls in flight without a
// thread per connection (the async client's shutdown and cancellation tests).

#include <cstdint>
#include <string>

namespace inferencesh::testing {

class SilentListener {
 public:
  /// Listens on 127.0.0.1 and a free port; throws std::system_error when it cannot.
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  /// "http://127.0.0.1:<port>"
  std::string url() const;

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

}  // namespace inferencesh::testing
