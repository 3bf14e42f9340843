#include "chats/agent_catalog.hpp"

#include <algorithm>
#include <cctype>

#include "support/id_generator.hpp"
#include "support/time_format.hpp"

namespace infsh::local {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> split_agent_ref(const std::string& ref) {
  const std::string base = ref.substr(0, ref.find('@'));
  const auto slash = base.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == base.size() ||
      base.find('/', slash + 1) != std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(base.substr(0, slash), base.substr(slash + 1));
}

AgentCatalog::AgentCatalog(ChatStore& store) : store_(store), agents_(store.load_agents()) {}

std::vector<AgentRecord>::iterator AgentCatalog::find_locked(const std::string& id_or_short_id) {
  return std::find_if(agents_.begin(), agents_.end(), [&](const AgentRecord& agent) {
    return agent.id == id_or_short_id || short_id_of(agent.id) == id_or_short_id;
  });
}

AgentRecord AgentCatalog::put_template(const std::string& namespace_name, const std::string& name,
                                       nlohmann::json config, nlohmann::json images,
                                       const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = id.empty()
                ? std::find_if(agents_.begin(), agents_.end(),
                               [&](const AgentRecord& agent) {
                                 return !agent.ad_hoc && agent.namespace_name == namespace_name &&
                                        agent.name == name;
                               })
                : find_locked(id);
  const std::string now = rfc3339_now();
  if (it == agents_.end()) {
    AgentRecord agent;
    agent.id = new_id("agent");
    agent.namespace_name = namespace_name;
    agent.name = name;
    agent.version_id = new_id("agv");
    agent.config = std::move(config);
    agent.images = std::move(images);
    agent.created_at = agent.updated_at = now;
    store_.save_agent(agent);
    agents_.push_back(agent);
    return agent;
  }
  if (it->config != config) it->version_id = new_id("agv");
  it->config = std::move(config);
  if (!images.is_null()) it->images = std::move(images);
  if (!namespace_name.empty()) it->namespace_name = namespace_name;
  if (!name.empty()) it->name = name;
  it->ad_hoc = false;
  it->updated_at = now;
  store_.save_agent(*it);
  return *it;
}

AgentRecord AgentCatalog::ad_hoc(const std::string& name, nlohmann::json config) {
  std::lock_guard lock(mutex_);
  auto it = name.empty() ? agents_.end()
                         : std::find_if(agents_.begin(), agents_.end(), [&](const AgentRecord& a) {
                             return a.ad_hoc && a.name == name;
                           });
  const std::string now = rfc3339_now();
  if (it == agents_.end()) {
    AgentRecord agent;
    agent.id = new_id("agent");
    agent.namespace_name = "local";
    agent.name = name;
    agent.ad_hoc = true;
    agent.version_id = new_id("agv");
    agent.config = std::move(config);
    agent.created_at = agent.updated_at = now;
    store_.save_agent(agent);
    agents_.push_back(agent);
    return agent;
  }
  if (it->config != config) {
    it->version_id = new_id("agv");
    it->config = std::move(config);
    it->updated_at = now;
    store_.save_agent(*it);
  }
  return *it;
}

std::optional<AgentRecord> AgentCatalog::find(const std::string& id_or_short_id) const {
  std::lock_guard lock(mutex_);
  const auto it = const_cast<AgentCatalog*>(this)->find_locked(id_or_short_id);
  if (it == agents_.end()) return std::nullopt;
  return *it;
}

std::optional<AgentRecord> AgentCatalog::find_template(const std::string& ref) const {
  const auto parts = split_agent_ref(ref);
  if (!parts) return std::nullopt;
  std::lock_guard lock(mutex_);
  for (const AgentRecord& agent : agents_) {
    if (!agent.ad_hoc && agent.namespace_name == parts->first && agent.name == parts->second) {
      return agent;
    }
  }
  return std::nullopt;
}

bool AgentCatalog::remove(const std::string& id_or_short_id) {
  std::lock_guard lock(mutex_);
  const auto it = find_locked(id_or_short_id);
  if (it == agents_.end()) return false;
  store_.delete_agent(it->id);
  agents_.erase(it);
  return true;
}

AgentCatalog::Page AgentCatalog::list(std::size_t cursor, std::size_t limit,
                                      const std::string& search) const {
  const std::string term = lower(search);
  std::lock_guard lock(mutex_);
  std::vector<const AgentRecord*> matching;
  for (const AgentRecord& agent : agents_) {
    if (agent.ad_hoc) continue;
    if (!term.empty() && lower(agent.name).find(term) == std::string::npos &&
        lower(agent.namespace_name).find(term) == std::string::npos) {
      continue;
    }
    matching.push_back(&agent);
  }
  std::reverse(matching.begin(), matching.end());  // the newest first
  Page page;
  page.total = matching.size();
  for (std::size_t i = cursor; i < matching.size() && page.items.size() < limit; ++i) {
    page.items.push_back(*matching[i]);
  }
  if (cursor + page.items.size() < matching.size()) page.next_cursor = cursor + page.items.size();
  return page;
}

}  // namespace infsh::local
