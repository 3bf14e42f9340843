#pragma once

#include <memory>

#include "async_loop.hpp"
#include "client_core.hpp"
#include "inferencesh/async_client.hpp"

namespace inferencesh::detail {

/// What the copies of one AsyncClient share: the resolved options (in a ClientCore, whose rules
/// the async calls follow) and the event loop. Its destruction shuts the loop down, failing
/// every call in flight; the calls themselves hold the loop and the ClientCore, never this.
class AsyncCore {
 public:
  AsyncCore(const ClientOptions& options, const AsyncOptions& async);
  ~AsyncCore();
  AsyncCore(const AsyncCore&) = delete;
  AsyncCore& operator=(const AsyncCore&) = delete;

  const std::shared_ptr<const ClientCore>& client() const noexcept { return client_; }
  const std::shared_ptr<AsyncLoop>& loop() const noexcept { return loop_; }

 private:
  std::shared_ptr<const ClientCore> client_;
  std::shared_ptr<AsyncLoop> loop_;
};

}  // namespace inferencesh::detail
