#include "inferencesh/cancellation.hpp"

#include <utility>

#include "common/cancellation.hpp"

namespace inferencesh {
namespace detail {

// The SDK's one cancellation state (also behind infsh::Context and the runtime's tasks).
struct CancellationState : common::CancellationState {};

}  // namespace detail

CancellationToken::CancellationToken() : state_(std::make_shared<detail::CancellationState>()) {}

void CancellationToken::cancel() const { state_->cancel(); }

bool CancellationToken::is_cancelled() const noexcept { return state_->is_cancelled(); }

bool CancellationToken::wait_for(std::chrono::milliseconds duration) const {
  return state_->wait_for(duration);
}

CancellationToken::Registration CancellationToken::on_cancel(std::function<void()> callback) const {
  Registration registration;
  registration.id_ = state_->add_callback(std::move(callback));
  if (registration.id_ != 0) registration.state_ = state_;  // 0: it ran at once
  return registration;
}

CancellationToken::Registration::~Registration() {
  if (state_) state_->remove_callback(id_);
}

}  // namespace inferencesh
