#pragma once

// The agents a runtime knows: templates (from `--agent ns/name=FILE.json` or POST /agents),
// resolvable as "ns/name@anything", and ad-hoc configs sent with a run, kept under their
// agent_name so that runs with the same name share one agent (protocol-agents-tools.md 1.2).
// Thread-safe; every change is written to the store before the call returns.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chats/chat_records.hpp"
#include "chats/chat_store.hpp"

namespace infsh::local {

class AgentCatalog {
 public:
  /// Loads the agents kept in `store`.
  explicit AgentCatalog(ChatStore& store);

  /// Creates the template `namespace_name/name`, or gives the existing one a new version of
  /// `config` (already checked). `id`, when given, names the agent to change.
  AgentRecord put_template(const std::string& namespace_name, const std::string& name,
                           nlohmann::json config, nlohmann::json images = nullptr,
                           const std::string& id = {});

  /// The ad-hoc agent called `name` (a fresh one per call when `name` is empty), holding
  /// `config`: a new version when the config changed.
  AgentRecord ad_hoc(const std::string& name, nlohmann::json config);

  /// By id or short id, templates and ad-hoc agents alike.
  std::optional<AgentRecord> find(const std::string& id_or_short_id) const;
  /// The template "namespace/name", with any "@version" ignored.
  std::optional<AgentRecord> find_template(const std::string& ref) const;

  /// Removes an agent; false when unknown. Chats that used it keep their config.
  bool remove(const std::string& id_or_short_id);

  /// Templates (not ad-hoc agents), newest first, after `cursor` (an index from a previous
  /// page), whose name or namespace contains `search` (case-insensitive).
  struct Page {
    std::vector<AgentRecord> items;
    std::optional<std::size_t> next_cursor;
    std::size_t total = 0;
  };
  Page list(std::size_t cursor, std::size_t limit, const std::string& search) const;

 private:
  std::vector<AgentRecord>::iterator find_locked(const std::string& id_or_short_id);

  ChatStore& store_;
  mutable std::mutex mutex_;
  std::vector<AgentRecord> agents_;  // in creation order
};

/// Splits "namespace/name[@version]" into namespace and name; nullopt when malformed.
std::optional<std::pair<std::string, std::string>> split_agent_ref(const std::string& ref);

}  // namespace infsh::local
