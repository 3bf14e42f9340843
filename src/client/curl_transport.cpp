// The built-in Transport: libcurl easy handles driven by a per-transfer multi handle.
//
// Each transfer runs on the calling thread: curl_multi_perform + curl_multi_poll in a loop. The
// multi interface (rather than curl_easy_perform) is what makes a call cancellable from another
// thread (curl_multi_wakeup interrupts the poll at once), lets a stream hand out body bytes as
// they arrive (pull model, no extra thread) and lets us apply an idle timeout to streams.
// Keep-alive connections stay with the pooled handle that opened them (in its multi handle's
// cache), and a handle serves one call at a time on whichever thread runs it: libcurl does not
// support a connection cache shared by handles in use on several threads at once. The pool hands
// out the handle released last, so sequential calls reuse one connection. DNS and TLS sessions
// are shared. How a transfer is configured and read (curl_exchange.hpp) is shared with the async
// client's loop.

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "curl_exchange.hpp"
#include "inferencesh/errors.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh {
namespace {

using Clock = std::chrono::steady_clock;
using detail::CurlExchange;
using detail::EasyPtr;
using detail::MultiPtr;

/// An easy handle with the multi handle that drives it.
struct Handle {
  EasyPtr easy;
  MultiPtr multi;
};

class CurlTransport;

/// One request/response exchange on a pooled handle, driven on the calling thread.
class Transfer {
 public:
  Transfer(std::shared_ptr<CurlTransport> owner, const HttpRequest& request,
           CancellationToken cancel, bool streaming);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  /// Drives the transfer until `ready()` holds or it finished. Throws on cancellation or on the
  /// idle timeout; a curl failure is kept for throw_if_failed() to map.
  template <typename Ready>
  void pump(Ready ready);

  bool finished() const noexcept { return finished_; }
  bool headers_complete() const noexcept { return exchange_->headers_complete(); }
  int status() const noexcept { return exchange_->status(); }
  Headers& headers() noexcept { return exchange_->headers(); }
  const Headers& headers() const noexcept { return exchange_->headers(); }
  std::string& body() noexcept { return exchange_->body(); }
  /// Lets a stream that paused because its reader fell behind receive again.
  void resume() {
    if (!finished_) exchange_->resume();
  }

  /// Throws the exception that describes a failed transfer; returns if it succeeded.
  void throw_if_failed() const { exchange_->throw_if_failed(); }

  /// Throws CancelledError once the token fired and TimeoutError once the request's deadline
  /// passed: checked before every step, so neither waits for the data to pause.
  void check_cancel_and_deadline();

 private:
  void finish(CURLcode result);

  std::shared_ptr<CurlTransport> owner_;
  std::unique_ptr<Handle> handle_;
  const HttpRequest& request_;
  CancellationToken cancel_;
  CancellationToken::Registration wake_on_cancel_;
  std::optional<CurlExchange> exchange_;
  bool added_ = false;
  bool finished_ = false;
};

class CurlTransport final : public Transport, public std::enable_shared_from_this<CurlTransport> {
 public:
  explicit CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {}

  HttpResponse send(const HttpRequest& request, const CancellationToken& cancel) override;
  std::unique_ptr<ResponseStream> open(const HttpRequest& request,
                                       const CancellationToken& cancel) override;

  const CurlTransportOptions& options() const noexcept { return options_; }
  CURLSH* share() const noexcept { return share_.get(); }

  std::unique_ptr<Handle> acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      if (!idle_.empty()) {
        auto handle = std::move(idle_.back());
        idle_.pop_back();
        return handle;
      }
    }
    auto handle = std::make_unique<Handle>();
    handle->easy.reset(curl_easy_init());
    handle->multi.reset(curl_multi_init());
    if (!handle->easy || !handle->multi) {
      throw ConnectionError("libcurl: could not create a handle", false);
    }
    return handle;
  }

  void release(std::unique_ptr<Handle> handle) {
    curl_easy_reset(handle->easy.get());
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(handle));
  }

 private:
  CurlTransportOptions options_;
  detail::CurlShare share_;  // declared before the pool: handles are cleaned up before the share
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// ---------------------------------------------------------------------------------------------

Transfer::Transfer(std::shared_ptr<CurlTransport> owner, const HttpRequest& request,
                   CancellationToken cancel, bool streaming)
    : owner_(std::move(owner)),
      handle_(owner_->acquire()),
      request_(request),
      cancel_(std::move(cancel)) {
  if (cancel_.is_cancelled()) {
    owner_->release(std::move(handle_));
    throw CancelledError("the call was cancelled before it started");
  }
  exchange_.emplace(handle_->easy.get(), owner_->share(), owner_->options(), request, cancel_,
                    streaming);
  CURLM* multi = handle_->multi.get();
  if (curl_multi_add_handle(multi, handle_->easy.get()) != CURLM_OK) {
    exchange_.reset();
    owner_->release(std::move(handle_));
    throw ConnectionError("libcurl: could not start the transfer", false);
  }
  added_ = true;
  wake_on_cancel_ = cancel_.on_cancel([multi] { curl_multi_wakeup(multi); });
}

Transfer::~Transfer() {
  if (!handle_) return;
  // Unregister first so a concurrent cancel() cannot touch the multi handle once it is pooled.
  wake_on_cancel_ = CancellationToken::Registration();
  if (added_) {
    // Removing an unfinished transfer makes curl close its connection instead of reusing it.
    curl_multi_remove_handle(handle_->multi.get(), handle_->easy.get());
  }
  exchange_.reset();
  owner_->release(std::move(handle_));
}

void Transfer::check_cancel_and_deadline() {
  if (cancel_.is_cancelled()) throw CancelledError("the call was cancelled");
  if (request_.deadline && Clock::now() >= *request_.deadline) throw exchange_->deadline_error();
}

template <typename Ready>
void Transfer::pump(Ready ready) {
  CURLM* multi = handle_->multi.get();
  const auto idle_timeout = request_.idle_timeout;
  while (!finished_) {
    // Before each step, not only when the connection is quiet: a server that never stops
    // sending must not keep a cancelled call alive.
    check_cancel_and_deadline();
    int running = 0;
    const CURLMcode code = curl_multi_perform(multi, &running);
    if (exchange_->callback_error()) std::rethrow_exception(exchange_->callback_error());
    if (code != CURLM_OK) {
      throw ConnectionError(std::string("libcurl: ") + curl_multi_strerror(code), true);
    }
    if (running == 0) {
      int queued = 0;
      CURLcode result = CURLE_OK;
      while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
        if (message->msg == CURLMSG_DONE) result = message->data.result;
      }
      finish(result);
      return;
    }
    if (ready()) return;
    check_cancel_and_deadline();

    int wait_ms = 1000;
    if (request_.deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*request_.deadline - Clock::now());
      if (left.count() < wait_ms)
        wait_ms = static_cast<int>(std::max<long long>(left.count(), 0)) + 1;
    }
    if (idle_timeout.count() > 0) {
      const auto idle_left = std::chrono::duration_cast<std::chrono::milliseconds>(
          exchange_->last_activity() + idle_timeout - Clock::now());
      if (idle_left.count() <= 0) throw exchange_->idle_timeout_error();
      if (idle_left.count() < wait_ms) wait_ms = static_cast<int>(idle_left.count()) + 1;
    }
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
}

void Transfer::finish(CURLcode result) {
  finished_ = true;
  exchange_->finish(result);
  wake_on_cancel_ = CancellationToken::Registration();
  curl_multi_remove_handle(handle_->multi.get(), handle_->easy.get());
  added_ = false;
}

// ---------------------------------------------------------------------------------------------

class CurlResponseStream final : public ResponseStream {
 public:
  CurlResponseStream(std::shared_ptr<CurlTransport> owner, HttpRequest request,
                     const CancellationToken& cancel)
      : request_(std::move(request)),
        transfer_(std::move(owner), request_, cancel, /*streaming=*/true) {
    transfer_.pump([this] { return transfer_.headers_complete(); });
    if (!transfer_.headers_complete()) transfer_.throw_if_failed();
  }

  int status() const override { return transfer_.status(); }
  const Headers& headers() const override { return transfer_.headers(); }

  bool next(std::string& chunk) override {
    transfer_.check_cancel_and_deadline();
    if (transfer_.body().empty() && !transfer_.finished()) {
      transfer_.pump([this] { return !transfer_.body().empty(); });
    }
    if (!transfer_.body().empty()) {
      chunk.clear();
      chunk.swap(transfer_.body());
      transfer_.resume();
      return true;
    }
    transfer_.throw_if_failed();
    return false;
  }

 private:
  HttpRequest request_;  // owned here: the transfer points into it for its whole life
  Transfer transfer_;
};

HttpResponse CurlTransport::send(const HttpRequest& request, const CancellationToken& cancel) {
  Transfer transfer(shared_from_this(), request, cancel, /*streaming=*/false);
  transfer.pump([] { return false; });
  transfer.throw_if_failed();
  HttpResponse response;
  response.status = transfer.status();
  response.headers = std::move(transfer.headers());
  response.body = std::move(transfer.body());
  return response;
}

std::unique_ptr<ResponseStream> CurlTransport::open(const HttpRequest& request,
                                                    const CancellationToken& cancel) {
  return std::make_unique<CurlResponseStream>(shared_from_this(), request, cancel);
}

}  // namespace

std::shared_ptr<Transport> make_curl_transport(const CurlTransportOptions& options) {
  detail::ensure_curl_global_init();
  return std::make_shared<CurlTransport>(options);
}

}  // namespace inferencesh
