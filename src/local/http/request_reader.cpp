// The request side of HTTP/1.1 on Beast's basic_parser: no Beast message or fields container
// (header fields go straight into Request::headers, trailers are counted and dropped), and the
// parser is only ever shown as much as the limits allow.

#include "http/request_reader.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace infsh::local {

namespace http = boost::beast::http;
using error_code = boost::system::error_code;
using boost::beast::string_view;

namespace {

// Body bytes are received this many at a time.
constexpr std::size_t kReadBytes = std::size_t{64} * 1024;
// Heads are received into a buffer this large at first, grown while the head goes on.
constexpr std::size_t kHeadReadBytes = std::size_t{4} * 1024;

// "/a//b?x" → path "/a/b", query "x"; absolute-form targets lose scheme and authority.
void split_target(const std::string& target, std::string& path, std::string& query) {
  std::string_view rest = target;
  if (rest.rfind("http://", 0) == 0 || rest.rfind("https://", 0) == 0) {
    const auto authority = rest.find("//") + 2;
    const auto slash = rest.find('/', authority);
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  const auto mark = rest.find('?');
  const std::string_view raw_path = rest.substr(0, mark);
  query = mark == std::string_view::npos ? std::string() : std::string(rest.substr(mark + 1));
  path.clear();
  for (const char c : raw_path) {
    if (c == '/' && !path.empty() && path.back() == '/') continue;
    path += c;
  }
  if (path.empty()) path = "/";
}

// The codings of a Transfer-Encoding list, lower-case, without blanks.
std::vector<std::string> codings_of(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    std::string coding(item);
    for (char& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back(std::move(coding));
  }
  return out;
}

}  // namespace

class RequestReader::Parser final : public http::basic_parser<true> {
 public:
  explicit Parser(RequestReader& owner) : owner_(owner) {}

 private:
  void on_request_impl(http::verb, string_view method, string_view target, int version,
                       error_code&) override {
    owner_.request_.method.assign(method.data(), method.size());
    owner_.request_.target.assign(target.data(), target.size());
    owner_.http11_ = version >= 11;
  }

  void on_response_impl(int, string_view, int, error_code& ec) override {
    ec = http::error::bad_version;  // a request parser never sees a status line
  }

  void on_field_impl(http::field name, string_view name_string, string_view value,
                     error_code& ec) override {
    if (is_header_done()) {  // a trailer field: counted, not kept
      count_trailer(name_string.size() + value.size() + 4, ec);
      return;
    }
    if (name == http::field::transfer_encoding) {
      if (!owner_.transfer_encoding_.empty()) owner_.transfer_encoding_ += ',';
      owner_.transfer_encoding_.append(value.data(), value.size());
    } else if (name == http::field::expect) {
      owner_.expects_continue_ = boost::beast::iequals(value, "100-continue");
    }
    owner_.request_.headers.emplace_back(std::string(name_string.data(), name_string.size()),
                                         std::string(value.data(), value.size()));
  }

  void on_header_impl(error_code& ec) override {
    if (owner_.transfer_encoding_.empty()) return;
    // Only `chunked` frames a body we can read. Any other list would leave its length unknown
    // (RFC 9112 6.3: answer 400 and close) or need a decoder we do not have (501).
    const auto codings = codings_of(owner_.transfer_encoding_);
    const std::string given =
        "Transfer-Encoding '" + owner_.transfer_encoding_.substr(0, 100) + "'";
    const auto chunked = std::count(codings.begin(), codings.end(), "chunked");
    if (!owner_.http11_) {
      owner_.fail(400, given + " is refused: HTTP/1.0 requests have no transfer codings");
    } else if (codings.empty() || codings.back() != "chunked" || chunked != 1) {
      owner_.fail(400, given +
                           " does not end in one 'chunked', so the length of the body "
                           "cannot be told: send Content-Length or Transfer-Encoding: chunked");
    } else if (codings.size() > 1) {
      owner_.fail(501, "transfer coding '" + codings.front().substr(0, 50) +
                           "' is not supported: send the body with Content-Length or "
                           "Transfer-Encoding: chunked alone");
    }
    if (owner_.error_) ec = http::error::bad_transfer_encoding;
  }

  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}

  std::size_t on_body_impl(string_view body, error_code&) override {
    owner_.piece_ = std::string_view(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, string_view extensions, error_code& ec) override {
    count_trailer(extensions.size(), ec);
  }

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    owner_.piece_ = std::string_view(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  void count_trailer(std::size_t bytes, error_code& ec) {
    owner_.trailer_bytes_ += bytes;
    if (owner_.trailer_bytes_ > owner_.limits_.max_header_bytes) ec = http::error::header_limit;
  }

  RequestReader& owner_;
};

RequestReader::RequestReader(RequestLimits limits)
    : limits_(limits),
      capacity_limit_(std::max<std::size_t>(limits.max_header_bytes, 1) + kReadBytes) {
  start_next();
}

RequestReader::~RequestReader() = default;

RequestReader::Space RequestReader::space() {
  piece_ = {};
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t wanted =
      std::min(capacity_limit_, end_ + (head_reported_ ? kReadBytes : kHeadReadBytes));
  if (buffer_.size() < wanted) {
    buffer_.resize(std::min(capacity_limit_, std::max(wanted, buffer_.size() * 2)));
  }
  // next() asks for more only while less than the head limit is buffered, so there is room.
  return {buffer_.data() + end_, buffer_.size() - end_};
}

void RequestReader::commit(std::size_t n) noexcept { end_ += std::min(n, buffer_.size() - end_); }

RequestReader::Event RequestReader::only(Kind kind) {
  Event event;
  event.kind = kind;
  return event;
}

RequestReader::Event RequestReader::body_event(std::string_view bytes) {
  Event event = only(Kind::body);
  event.body = bytes;
  return event;
}

RequestReader::Event RequestReader::fail(int status, std::string message) {
  Event event = only(Kind::error);
  event.status = status;
  event.message = std::move(message);
  error_ = std::move(event);
  return *error_;
}

RequestReader::Event RequestReader::next() {
  if (error_) return *error_;
  for (;;) {
    if (head_reported_ && parser_->is_done()) return only(Kind::done);
    const std::size_t available = end_ - begin_;
    if (available == 0) return only(Kind::need_more);
    // Beast keeps a chunk line, or the last chunk's line with the trailer section, whole in view
    // until it ends: it is never shown more than the limit, so neither can grow without end.
    std::size_t view = available;
    const bool framing = parser_->is_header_done() && parser_->chunked();
    if (framing) view = std::min(view, limits_.max_header_bytes);
    // Beast 1.74 asserts when the last chunk's line was seen without its final CRLF and is shown
    // again in fewer than five bytes ("0\r\n\r"). Every chunked body still has at least five
    // bytes to come ("0\r\n\r\n"), so waiting for them costs nothing.
    if (framing && available < 5) return only(Kind::need_more);
    piece_ = {};
    error_code ec;
    const std::size_t used =
        parser_->put(boost::asio::const_buffer(buffer_.data() + begin_, view), ec);
    begin_ += used;
    if (!head_reported_) head_bytes_ += used;
    if (error_) return *error_;
    if (ec == http::error::need_more) {
      if (used > 0) continue;
      if (framing && view == limits_.max_header_bytes) {
        return fail(431, "a chunk header or the trailer section of the request is larger than " +
                             std::to_string(limits_.max_header_bytes) +
                             " bytes (chunk extensions and trailers share the head's limit)");
      }
      return only(Kind::need_more);
    }
    if (ec == http::error::header_limit) {
      if (!parser_->is_header_done()) {
        return fail(431, "the request head is larger than " +
                             std::to_string(limits_.max_header_bytes) + " bytes");
      }
      return fail(431, "the request's chunk extensions and trailer fields are larger than " +
                           std::to_string(limits_.max_header_bytes) + " bytes in total");
    }
    if (ec) return fail(400, "malformed HTTP request: " + ec.message());
    if (!head_reported_ && parser_->is_header_done()) {
      // Beast measures the start line and the fields apart when they arrive together.
      if (head_bytes_ > limits_.max_header_bytes) {
        return fail(431, "the request head is larger than " +
                             std::to_string(limits_.max_header_bytes) + " bytes");
      }
      head_reported_ = true;
      split_target(request_.target, request_.path, request_.query);
      request_.keep_alive = parser_->keep_alive();
      if (const auto length = parser_->content_length()) content_length_ = *length;
      request_.has_body = parser_->chunked() || content_length_.value_or(0) > 0;
      return only(Kind::head);
    }
    if (!piece_.empty()) {
      body_bytes_ += piece_.size();
      if (body_limit_ && body_bytes_ > *body_limit_) {
        return fail(413,
                    "the request body is larger than " + std::to_string(*body_limit_) + " bytes");
      }
      return body_event(piece_);
    }
    if (used == 0) return only(Kind::need_more);
  }
}

std::optional<std::string> RequestReader::limit_body(std::uint64_t max_bytes) {
  body_limit_ = max_bytes;
  if (content_length_ && *content_length_ > max_bytes) {
    std::string message = "the request body is larger than " + std::to_string(max_bytes) + " bytes";
    fail(413, message);
    return message;
  }
  return std::nullopt;
}

void RequestReader::start_next() {
  parser_ = std::make_unique<Parser>(*this);
  parser_->eager(false);  // one step per put(): a head, or one piece of the body
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  // Body limits are the connection's (they depend on the endpoint). Not boost::none: Beast 1.74
  // compares a Content-Length with it as "greater", refusing every body.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  request_ = Request();
  http11_ = true;
  expects_continue_ = false;
  content_length_.reset();
  head_reported_ = false;
  head_bytes_ = 0;
  transfer_encoding_.clear();
  trailer_bytes_ = 0;
  body_limit_.reset();
  body_bytes_ = 0;
  piece_ = {};
  error_.reset();
}

void RequestReader::release_buffer() noexcept {
  buffer_ = std::vector<char>();  // its memory too
  begin_ = end_ = 0;
}

}  // namespace infsh::local
