#include "chats/chat_api.hpp"

#include "chats/agent_config.hpp"
#include "chats/chat_requests.hpp"
#include "http/api_envelope.hpp"
#include "http/event_stream.hpp"

namespace infsh::local {

using nlohmann::json;

namespace {

std::string app_name_of(const std::string& ref) {
  return ref.substr(0, std::min(ref.find('@'), ref.find(':')));
}

// An ad-hoc config's core app must be one this runtime serves.
void check_core_app(const json& config, const AppRegistry& apps, const std::string& field) {
  const std::string ref = config.at("core_app").value("ref", "");
  if (!apps.find(app_name_of(ref))) {
    std::string names;
    for (const auto& name : apps.names()) names += (names.empty() ? "" : ", ") + name;
    throw ApiProblem(422, "field '" + field + ".core_app.ref': no app '" + app_name_of(ref) +
                              "' is served here (apps: " + names + ")");
  }
}

AgentChoice choice_of(const AgentRecord& agent) {
  return {agent.id, agent.version_id, agent.config};
}

// A template by reference; failing that, an app served here as a plain LLM (the React client
// sends a core app's reference for ad-hoc configs).
AgentChoice resolve_agent(AgentCatalog& agents, const AppRegistry& apps, const std::string& ref,
                          const std::string& field) {
  if (auto agent = agents.find_template(ref)) return choice_of(*agent);
  if (auto agent = agents.find(ref)) return choice_of(*agent);
  if (split_agent_ref(ref) && apps.find(app_name_of(ref))) {
    return choice_of(agents.ad_hoc(ref, json{{"core_app", {{"ref", ref}}}}));
  }
  throw ApiProblem(404, "field '" + field + "': there is no agent '" + ref.substr(0, 200) +
                            "' (register a template with --agent ns/name=FILE.json or POST "
                            "/agents, or send an ad-hoc agent_config)");
}

Response chat_stream(ChatEngine& chats, const std::string& chat_id, StreamFormat format,
                     std::chrono::milliseconds heartbeat_interval) {
  return event_stream_response(
      format, heartbeat_interval,
      [&chats, chat_id, format](const std::shared_ptr<StreamSink>& sink) {
        // No snapshot: a client that opens the stream before sending (JS, existing chats) would
        // take an idle chat for the end of its turn.
        return chats.subscribe(chat_id,
                               [sink, format](std::string_view event, const std::string& data) {
                                 if (event.empty()) {
                                   sink->finish();
                                   return;
                                 }
                                 sink->send(frame_named_event(format, event, data));
                               });
      },
      [&chats, chat_id](std::uint64_t id) { chats.unsubscribe(chat_id, id); });
}

}  // namespace

void register_chat_routes(Router& router, ChatEngine& chats, AgentCatalog& agents,
                          const AppRegistry& apps, ChatApiSettings settings) {
  // ---- agents (fixed paths before /agents/{id})
  router.add("POST", "/agents/run", [&](Request& request, const PathParams&) {
    AgentRunRequest run = parse_agent_run_request(request.body);
    std::optional<AgentChoice> choice;
    if (run.agent_config) {
      check_core_app(*run.agent_config, apps, "agent_config");
      choice = choice_of(agents.ad_hoc(run.agent_name, *run.agent_config));
    } else if (run.agent && !run.chat_id) {
      choice = resolve_agent(agents, apps, *run.agent, "agent");
    }
    std::string chat_id;
    if (run.chat_id) {
      chat_id = *run.chat_id;
    } else {
      chat_id = chats.create_chat(*choice, run.context, {}).at("id").get<std::string>();
      choice.reset();
    }
    const ChatEngine::Sent sent = chats.send(chat_id, std::move(run.input), choice, run.context);
    return api_success(request, {{"user_message", sent.user_message},
                                 {"assistant_message", sent.assistant_message}});
  });

  // ---- chats (fixed paths before /chats/{id})
  router.add("POST", "/chats/list", [&chats](Request& request, const PathParams&) {
    const ListRequest list = parse_list_request(request.body);
    ChatStore::ChatQuery query;
    query.before = list.cursor;
    query.limit = list.limit;
    query.name_contains = list.search;
    query.status = list.status;
    query.parent_id = list.parent_id;
    return api_success(request, chats.list(query));
  });

  router.add("POST", "/chats/messages/{id}/cancel",
             [&chats](Request& request, const PathParams& p) {
               return api_success(request, chats.cancel_message(p.get("id")));
             });

  router.add("POST", "/chats", [&](Request& request, const PathParams&) {
    CreateChatRequest create = parse_create_chat_request(request.body);
    const AgentChoice choice = resolve_agent(agents, apps, create.agent, "agent");
    return api_success(
        request, chats.create_chat(choice, std::move(create.context), std::move(create.name)));
  });

  router.add("GET", "/chats/{id}", [&chats](Request& request, const PathParams& p) {
    return api_success(request, chats.chat(p.get("id")));
  });

  router.add("POST", "/chats/{id}", [&chats](Request& request, const PathParams& p) {
    const ChatUpdateRequest update = parse_chat_update_request(request.body);
    return api_success(request, chats.update(p.get("id"), update.name, update.description));
  });

  router.add("DELETE", "/chats/{id}", [&chats](Request& request, const PathParams& p) {
    chats.remove(p.get("id"));
    return api_void(request);
  });

  router.add("GET", "/chats/{id}/status", [&chats](Request& request, const PathParams& p) {
    return api_success(request, chats.chat_status(p.get("id")));
  });

  router.add("GET", "/chats/{id}/messages", [&chats](Request& request, const PathParams& p) {
    const MessagePageQuery page = parse_message_page_query(request.query);
    return api_success(request, chats.messages(p.get("id"), page.limit, page.cursor));
  });

  router.add("POST", "/chats/{id}/messages", [&chats](Request& request, const PathParams& p) {
    TurnInput input = parse_chat_message_request(request.body);
    return api_success(
        request, chats.send(p.get("id"), std::move(input), std::nullopt, nullptr).user_message);
  });

  router.add("GET", "/chats/{id}/stream",
             [&chats, settings](Request& request, const PathParams& p) {
               // Not a read of the chat: subscribing is what starts a turn held for a stream.
               const std::string id = chats.resolve_id(p.get("id"));  // 404 for an unknown chat
               return chat_stream(chats, id, negotiate_stream_format(request),
                                  settings.heartbeat_interval);
             });

  router.add("POST", "/chats/{id}/stop", [&chats](Request& request, const PathParams& p) {
    chats.stop_chat(p.get("id"));
    return api_void(request);
  });

  router.add("POST", "/chats/{id}/agent", [&](Request& request, const PathParams& p) {
    const CreateChatRequest body = parse_create_chat_request(request.body);
    return api_success(
        request, chats.set_agent(p.get("id"), resolve_agent(agents, apps, body.agent, "agent")));
  });

  router.add("POST", "/chats/{chat_id}/tools/{id}/always-allow",
             [&chats](Request& request, const PathParams& p) {
               chats.always_allow(p.get("chat_id"), p.get("id"),
                                  parse_always_allow_request(request.body));
               return api_void(request);
             });

  // ---- tools
  router.add("POST", "/tools/{id}", [&chats](Request& request, const PathParams& p) {
    chats.submit_result(p.get("id"), parse_tool_result_request(request.body));
    return api_void(request);
  });

  router.add("POST", "/tools/{id}/invoke", [&chats](Request& request, const PathParams& p) {
    chats.approve(p.get("id"));
    return api_void(request);
  });

  router.add("POST", "/tools/{id}/reject", [&chats](Request& request, const PathParams& p) {
    chats.reject(p.get("id"), parse_reject_request(request.body));
    return api_void(request);
  });

  // A hook's callback URL carries its own token (as upload URLs do), so the hook needs no key.
  router.add(
      "POST", "/tools/{id}/callback/{token}",
      [&chats](Request& request, const PathParams& p) {
        chats.hook_callback(p.get("id"), p.get("token"), parse_tool_result_request(request.body));
        return api_void(request);
      },
      RouteOptions{.authenticated = false});
}

}  // namespace infsh::local
