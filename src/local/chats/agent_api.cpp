#include "chats/agent_api.hpp"

#include "chats/agent_config.hpp"
#include "chats/chat_requests.hpp"
#include "http/api_envelope.hpp"

namespace infsh::local {

using nlohmann::json;

void register_agent_routes(Router& router, AgentCatalog& agents) {
  router.add("GET", "/agents/internal-tools", [](Request& request, const PathParams&) {
    return api_success(request, internal_tools_catalog());
  });

  router.add("POST", "/agents/list", [&agents](Request& request, const PathParams&) {
    const ListRequest list = parse_list_request(request.body);
    const auto cursor = static_cast<std::size_t>(list.cursor.value_or(0));
    const AgentCatalog::Page page = agents.list(cursor, list.limit, list.search);
    json items = json::array();
    for (const auto& agent : page.items) items.push_back(to_agent_dto(agent));
    return api_success(request,
                       {{"items", std::move(items)},
                        {"next_cursor", page.next_cursor ? std::to_string(*page.next_cursor) : ""},
                        {"prev_cursor", ""},
                        {"has_next", page.next_cursor.has_value()},
                        {"has_previous", cursor > 0},
                        {"items_per_page", list.limit},
                        {"total_items", page.total}});
  });

  router.add("POST", "/agents", [&agents](Request& request, const PathParams&) {
    CreateAgentRequest create = parse_create_agent_request(request.body);
    if (!create.id.empty() && !agents.find(create.id)) {
      throw ApiProblem(404, "agent '" + create.id.substr(0, 100) + "' not found");
    }
    const AgentRecord agent = agents.put_template(create.namespace_name, create.name,
                                                  std::move(create.config),
                                                  std::move(create.images), create.id);
    return api_success(request, to_agent_dto(agent));
  });

  router.add("GET", "/agents/{namespace}/{name}", [&agents](Request& request, const PathParams& p) {
    const std::string ref = p.get("namespace") + "/" + p.get("name");
    const auto agent = agents.find_template(ref);
    if (!agent) throw ApiProblem(404, "agent '" + ref.substr(0, 200) + "' not found");
    return api_success(request, to_agent_dto(*agent));
  });

  router.add("GET", "/agents/{id}", [&agents](Request& request, const PathParams& p) {
    const auto agent = agents.find(p.get("id"));
    if (!agent) throw ApiProblem(404, "agent '" + p.get("id").substr(0, 100) + "' not found");
    return api_success(request, to_agent_dto(*agent));
  });

  router.add("DELETE", "/agents/{id}", [&agents](Request& request, const PathParams& p) {
    if (!agents.remove(p.get("id"))) {
      throw ApiProblem(404, "agent '" + p.get("id").substr(0, 100) + "' not found");
    }
    return api_void(request);
  });
}

}  // namespace infsh::local
