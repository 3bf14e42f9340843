#include "http/http_message.hpp"

#include <algorithm>
#include <cctype>

#include "common/percent_encoding.hpp"

namespace infsh::local {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

Response& Response::set_header(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (iequals(key, name)) {
      existing = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

void PendingAnswer::give(Response response) {
  std::function<void(Response)> send;
  {
    std::lock_guard lock(mutex_);
    if (done_) return;
    done_ = true;
    for (auto& [name, value] : headers_) response.set_header(name, value);
    if (!send_) {
      given_ = std::move(response);
      return;
    }
    send = std::move(send_);
  }
  send(std::move(response));
}

void PendingAnswer::set_header(std::string name, std::string value) {
  std::lock_guard lock(mutex_);
  if (given_) {
    given_->set_header(std::move(name), std::move(value));
  } else {
    headers_.emplace_back(std::move(name), std::move(value));
  }
}

void PendingAnswer::on_given(std::function<void(Response)> send) {
  std::optional<Response> given;
  {
    std::lock_guard lock(mutex_);
    if (!given_) {
      send_ = std::move(send);
      return;
    }
    given = std::move(given_);
    given_.reset();
  }
  send(std::move(*given));
}

std::optional<std::string> query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto equals = pair.find('=');
    if (pair.substr(0, equals) != name) continue;
    return equals == std::string_view::npos
               ? std::string()
               : inferencesh::common::percent_decode_lenient(pair.substr(equals + 1));
  }
  return std::nullopt;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace infsh::local
