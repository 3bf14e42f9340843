#include "http/http_server.hpp"

#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/connection.hpp"

namespace infsh::local {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// Runs work the loop was handed from outside (a posted task, a timer's callback, a new
// connection): what it throws is logged here, never unwound into the event loop.
template <typename Fn>
void run_logged(const Logger& log, const char* what, Fn&& fn) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    try {
      log.error(std::string(what) + " failed: " + e.what());
    } catch (...) {
      // Out of memory even for the log line.
    }
  } catch (...) {
    try {
      log.error(std::string(what) + " failed");
    } catch (...) {
      // As above.
    }
  }
}

// A steady_timer behind the Boost-free LoopTimer interface. The timer object lives on the loop
// (shared with pending waits); arm and cancel hop there through the poster.
class AsioLoopTimer final : public LoopTimer {
 public:
  AsioLoopTimer(net::io_context& context, std::shared_ptr<LoopPoster> poster, const Logger& log)
      : state_(std::make_shared<State>(context)), poster_(std::move(poster)), log_(log) {}
  ~AsioLoopTimer() override { cancel(); }

  void arm(std::chrono::steady_clock::time_point when, std::function<void()> fire) override {
    poster_->post([state = state_, when, fire = std::move(fire), &log = log_]() mutable {
      ++state->generation;
      state->timer.expires_at(when);
      state->timer.async_wait(
          [state, generation = state->generation, fire = std::move(fire), &log](error_code ec) {
            if (!ec && generation == state->generation) run_logged(log, "a timer", fire);
          });
    });
  }

  void cancel() override {
    poster_->post([state = state_] {
      ++state->generation;
      state->timer.cancel();
    });
  }

 private:
  struct State {
    explicit State(net::io_context& context) : timer(context) {}
    net::steady_timer timer;
    std::uint64_t generation = 0;  // a wait fires only if no arm or cancel came after it
  };
  std::shared_ptr<State> state_;
  std::shared_ptr<LoopPoster> poster_;
  const Logger& log_;
};

// Host is checked only on a loopback bind: there the names that reach the runtime are known.
bool is_loopback_address(const std::string& host) {
  error_code ec;
  const auto address = net::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

}  // namespace

struct HttpServer::Impl {
  Impl(const HttpServerOptions& options, RequestHandler handler, BodyPlanner plan_body,
       ErrorResponder errors, const Logger& log_)
      : log(log_),
        poster(std::make_shared<LoopPoster>(context)),
        shared(std::make_shared<ServerShared>(options, std::move(handler), std::move(plan_body),
                                              std::move(errors), log_, poster,
                                              is_loopback_address(options.host))),
        acceptor(context),
        retry_timer(context) {}

  void accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors or similar: back off briefly instead of spinning.
        log.warning("accept failed: " + ec.message());
        retry_timer.expires_after(std::chrono::milliseconds(50));
        retry_timer.async_wait([this](error_code timer_ec) {
          if (!timer_ec) accept();
        });
        return;
      }
      run_logged(log, "taking a connection", [&] {
        if (shared->open_connections.load() >= shared->options.max_connections) {
          log.warning("connection limit reached; closing a new connection");
          error_code ignored;
          socket.close(ignored);
        } else {
          start_connection(std::move(socket), shared);
        }
      });
      accept();
    });
  }

  void close_all() {
    std::vector<std::shared_ptr<ConnectionControl>> live;
    live.reserve(shared->connections.size());
    for (auto& [raw, weak] : shared->connections) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
    for (auto& connection : live) connection->close();
    shared->connections.clear();
  }

  const Logger& log;
  net::io_context context{1};
  std::shared_ptr<LoopPoster> poster;
  std::shared_ptr<ServerShared> shared;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::thread loop;
  std::promise<void> loop_finished;
  std::future<void> loop_done;
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

HttpServer::HttpServer(const HttpServerOptions& options, RequestHandler handler,
                       BodyPlanner plan_body, ErrorResponder errors, const Logger& log)
    : impl_(std::make_unique<Impl>(options, std::move(handler), std::move(plan_body),
                                   std::move(errors), log)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  Impl& s = *impl_;
  if (s.started) throw std::logic_error("HttpServer::start called twice");
  const auto& options = s.shared->options;
  error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) throw std::runtime_error("cannot listen on '" + options.host + "': not an IP address");
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = options.host + ":" + std::to_string(options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  s.port = s.acceptor.local_endpoint().port();
  s.started = true;
  s.work.emplace(net::make_work_guard(s.context));
  s.accept();
  s.loop_done = s.loop_finished.get_future();
  s.loop = std::thread([&s] {
    for (;;) {
      try {
        s.context.run();
        s.loop_finished.set_value();
        return;
      } catch (const std::exception& e) {
        s.log.error(std::string("event loop: unexpected exception: ") + e.what());
      }
    }
  });
}

std::uint16_t HttpServer::port() const noexcept { return impl_->port; }

void HttpServer::post(std::function<void()> task) {
  impl_->poster->post([task = std::move(task), &log = impl_->log] {
    run_logged(log, "a task on the event loop", task);
  });
}

std::unique_ptr<LoopTimer> HttpServer::make_timer() {
  return std::make_unique<AsioLoopTimer>(impl_->context, impl_->poster, impl_->log);
}

void HttpServer::stop_accepting() {
  impl_->shared->draining = true;
  post([this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry_timer.cancel();
  });
}

void HttpServer::drop_streams() {
  post([this] {
    std::vector<std::shared_ptr<ConnectionControl>> live;
    for (auto& [raw, weak] : impl_->shared->connections) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
    for (auto& connection : live) connection->drop_stream();
  });
}

bool HttpServer::wait_for_streams_closed(std::chrono::milliseconds timeout) {
  auto& shared = *impl_->shared;
  std::unique_lock lock(shared.streams_mutex);
  return shared.streams_closed.wait_for(lock, timeout,
                                        [&] { return shared.open_streams.load() == 0; });
}

void HttpServer::stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.shared->draining = true;
  post([&s] {
    error_code ignored;
    s.acceptor.close(ignored);
    s.retry_timer.cancel();
    s.close_all();
    s.work.reset();
  });
  // With the sockets closed every pending handler completes at once and run() returns; if
  // something lingers, stop the loop anyway.
  if (s.loop_done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
    s.log.warning("event loop did not wind down in time; stopping it");
  }
  s.poster->disable();
  s.context.stop();
  s.loop.join();
}

HttpServerStats HttpServer::stats() const {
  const auto& shared = *impl_->shared;
  return {shared.open_connections.load(), shared.open_streams.load(), shared.streams_opened.load(),
          shared.requests.load()};
}

}  // namespace infsh::local
