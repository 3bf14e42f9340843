#include "http/json_body.hpp"

#include <string>
#include <utility>

#include "common/json_parse.hpp"
#include "http/api_envelope.hpp"

namespace infsh::local {

nlohmann::json parse_json_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return nlohmann::json::object();
  }
  inferencesh::common::JsonParseError error;
  auto parsed = inferencesh::common::parse_untrusted_json(body, &error);
  if (parsed) return std::move(*parsed);
  if (error.too_deep) throw ApiProblem(400, "request body is " + error.message);
  throw ApiProblem(400, "request body is not valid JSON: " + error.message);
}

}  // namespace infsh::local
