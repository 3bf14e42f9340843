#include "inferencesh/client.hpp"

#include "client_core.hpp"

namespace inferencesh {

Client::Client(const ClientOptions& options)
    : core_(std::make_shared<detail::ClientCore>(options)),
      tasks(core_),
      files(core_),
      sessions(core_),
      agents(core_) {}

const std::string& Client::base_url() const noexcept { return core_->options().base_url; }

}  // namespace inferencesh
