#pragma once

#include <memory>

#include "inferencesh/agents.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/files.hpp"
#include "inferencesh/sessions.hpp"
#include "inferencesh/tasks.hpp"

namespace inferencesh {

namespace detail {
class ClientCore;
}

/// The inference.sh API client. Cheap to copy: copies share one configuration and one
/// connection pool. Safe to use from several threads at once.
///
///     auto client = inf::inference({.api_key = "..."});
///     inf::Task done = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"x", 1}}}});
class Client {
  // Declared first: the resource members below are built from it.
  std::shared_ptr<detail::ClientCore> core_;

 public:
  /// Resolves the options (explicit value, then environment, then default). Does not contact
  /// the server; a missing API key is reported by the first call that needs it.
  explicit Client(const ClientOptions& options = {});

  Tasks tasks;        ///< run apps and follow their tasks
  Files files;        ///< upload and download files
  Sessions sessions;  ///< warm app instances kept across calls
  Agents agents;      ///< chat with agents

  /// The API base URL in use, without a trailing slash.
  const std::string& base_url() const noexcept;
};

/// Creates a client, as `inference(api_key=...)` does in the Python SDK.
inline Client inference(const ClientOptions& options = {}) { return Client(options); }

}  // namespace inferencesh
