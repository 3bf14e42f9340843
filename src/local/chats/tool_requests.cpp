#include "chats/tool_requests.hpp"

#include <exception>

namespace infsh::local {

ToolRequests::ToolRequests(std::shared_ptr<inferencesh::Transport> transport, std::size_t threads,
                           std::chrono::milliseconds timeout, const Logger& log)
    : transport_(std::move(transport)), timeout_(timeout), pool_(threads, log) {}

ToolRequests::~ToolRequests() { stop(); }

void ToolRequests::send(inferencesh::HttpRequest request,
                        const std::function<void(ToolHttpResult)>& done) {
  request.timeout = timeout_;
  request.max_response_bytes = kMaxBodyBytes;
  auto job = [this, request = std::move(request), done]() {
    ToolHttpResult result;
    try {
      inferencesh::HttpResponse response = transport_->send(request, cancel_);
      result.status = response.status;
      result.body = std::move(response.body);
    } catch (const std::exception& e) {
      result.error = e.what();
      if (result.error.empty()) result.error = "the request failed";
    }
    done(std::move(result));
  };
  if (!pool_.submit(job)) done({0, {}, "the runtime is stopping"});
}

void ToolRequests::stop() {
  cancel_.cancel();
  pool_.stop();
}

}  // namespace infsh::local
