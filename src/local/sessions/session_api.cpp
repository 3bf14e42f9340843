#include "sessions/session_api.hpp"

#include "http/api_envelope.hpp"

namespace infsh::local {

void register_session_routes(Router& router, SessionManager& sessions) {
  router.add("GET", "/sessions", [&sessions](Request& request, const PathParams&) {
    return api_success(request, sessions.list());  // [] when there are none, never null
  });

  router.add("GET", "/sessions/{id}", [&sessions](Request& request, const PathParams& params) {
    return api_success(request, sessions.get(params.get("id")));
  });

  router.add("POST", "/sessions/{id}/keepalive",
             [&sessions](Request& request, const PathParams& params) {
               return api_success(request, sessions.keepalive(params.get("id")));
             });

  router.add("DELETE", "/sessions/{id}", [&sessions](Request& request, const PathParams& params) {
    sessions.end(params.get("id"));
    return api_void(request);
  });
}

}  // namespace infsh::local
