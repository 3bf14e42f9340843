// infsh/openai-chat: a core for agents that asks any OpenAI-compatible /chat/completions
// endpoint (llama.cpp's server, Ollama, vLLM, a hosted provider). The request goes through the
// client library's libcurl transport; the answer is read as Server-Sent Events with the client's
// SSE framer, text deltas become partial outputs, tool calls are assembled from their deltas
// (apps/builtin/openai_chat_stream.hpp). 408/429/5xx answers and connection failures are retried
// with the client's backoff rule, honouring Retry-After. The API key is a secret
// (support/secrets.hpp): it goes in the Authorization header and nowhere else.

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "apps/builtin/builtin_apps.hpp"
#include "apps/builtin/chat_contract.hpp"
#include "apps/builtin/openai_chat_request.hpp"
#include "apps/builtin/openai_chat_stream.hpp"
#include "client/api_response.hpp"
#include "client/retry_policy.hpp"
#include "client/sse_decoder.hpp"
#include "common/json_parse.hpp"
#include "common/retryable_status.hpp"
#include "inferencesh/errors.hpp"
#include "inferencesh/transport.hpp"
#include "support/secrets.hpp"

namespace infsh::local::apps {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxErrorBody = std::size_t{64} * 1024;
constexpr std::size_t kMaxCompletionBody = std::size_t{16} * 1024 * 1024;
constexpr std::chrono::milliseconds kMaxRetryAfter{60000};

// The API key setup asks for: the named secret (which must exist when named), else
// OPENAI_API_KEY when it exists, else none.
std::optional<std::string> api_key(const OpenAIChatSetup& setup, const Secrets& secrets) {
  if (setup.api_key_secret) {
    auto key = secrets.find(*setup.api_key_secret);
    if (!key) {
      throw InvalidInputError("setup.api_key_secret",
                              "setup.api_key_secret: the secret " + *setup.api_key_secret +
                                  " is not set: " + Secrets::how_to_set(*setup.api_key_secret));
    }
    return key;
  }
  return secrets.find(kDefaultApiKeySecret);
}

// What an error answer says: the usual error fields of JSON bodies, else its first bytes.
std::string error_detail(const std::string& body) {
  if (const auto parsed = inferencesh::common::parse_untrusted_json(body);
      parsed && parsed->is_object()) {
    const auto error = parsed->find("error");
    if (error != parsed->end() && error->is_object()) {
      const auto message = error->find("message");
      if (message != error->end() && message->is_string()) return message->get<std::string>();
    }
    if (error != parsed->end() && error->is_string()) return error->get<std::string>();
    for (const char* key : {"message", "detail"}) {
      const auto it = parsed->find(key);
      if (it != parsed->end() && it->is_string()) return it->get<std::string>();
    }
  }
  std::string text = body.substr(0, 300);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0U) == 0x80U) {
    text.pop_back();  // never cut inside a UTF-8 sequence
  }
  return text.empty() ? "(empty body)" : text;
}

std::string seconds_text(std::chrono::milliseconds delay) {
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.1f s", static_cast<double>(delay.count()) / 1000.0);
  return text.data();
}

std::string read_bounded(inferencesh::ResponseStream& response, std::size_t limit) {
  std::string body;
  std::string chunk;
  while (body.size() < limit && response.next(chunk)) body.append(chunk, 0, limit - body.size());
  return body;
}

class OpenAIChatInstance final : public AppInstance {
 public:
  OpenAIChatInstance(OpenAIChatSetup setup, std::optional<std::string> key,
                     std::shared_ptr<inferencesh::Transport> transport,
                     std::shared_ptr<const Secrets> secrets)
      : setup_(std::move(setup)),
        key_(std::move(key)),
        url_(chat_completions_url(setup_)),
        transport_(std::move(transport)),
        secrets_(std::move(secrets)) {}

  json run(const std::string&, const json& input, AppContext& context) override {
    try {
      return answer(read_llm_input(input), context);
    } catch (const std::exception& e) {
      // Whatever went wrong, a message may quote what a server sent back: no secret leaves.
      throw std::runtime_error(secrets_->redact(e.what()));
    }
  }

 private:
  json answer(const LLMInput& turn, AppContext& context) {
    inferencesh::HttpRequest request;
    request.method = "POST";
    request.url = url_;
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
    if (key_) request.headers.emplace_back("Authorization", "Bearer " + *key_);
    request.body = chat_completions_body(setup_, turn).dump();
    request.idle_timeout = std::chrono::seconds(setup_.timeout_s);

    inferencesh::CancellationToken cancel;
    context.on_cancel([cancel] { cancel.cancel(); });
    const auto started = Clock::now();
    auto response = open(request, cancel, context);
    if (!response) return json::object();  // cancelled

    ChatCompletionStream stream;
    std::optional<Clock::time_point> first_token;
    try {
      const auto type = inferencesh::find_header(response->headers(), "Content-Type");
      if (type && type->rfind("application/json", 0) == 0) {
        // A server that ignored `stream: true`: one whole completion.
        const std::string body = read_bounded(*response, kMaxCompletionBody);
        const auto completion = inferencesh::common::parse_untrusted_json(body);
        if (!completion) {
          throw ChatStreamError("the answer is not JSON: " + error_detail(body));
        }
        stream.feed_completion(*completion);
        first_token = Clock::now();
      } else {
        read_events(*response, stream, context, first_token);
      }
    } catch (const inferencesh::CancelledError&) {
      return json::object();
    } catch (const ChatStreamError& e) {
      throw std::runtime_error(prefix() + ": " + e.what());
    } catch (const inferencesh::Error& e) {  // connection lost, idle timeout, oversized event
      throw std::runtime_error(prefix() + ": the stream broke after " +
                               std::to_string(stream.chunks()) + " chunks: " + e.what());
    }
    if (context.cancelled()) return json::object();
    if (!stream.complete()) {
      throw std::runtime_error(prefix() + ": the stream ended after " +
                               std::to_string(stream.chunks()) +
                               " chunks, before the answer was complete (no finish_reason, no "
                               "[DONE])");
    }
    LLMOutput output = stream.result();
    const auto ended = Clock::now();
    if (first_token) {
      output.usage->time_to_first_token =
          std::chrono::duration<double>(*first_token - started).count();
      const double generating = std::chrono::duration<double>(ended - *first_token).count();
      if (stream.server_tokens_per_second()) {
        output.usage->tokens_per_second = *stream.server_tokens_per_second();
      } else if (generating > 0 && output.usage->completion_tokens > 0) {
        output.usage->tokens_per_second =
            static_cast<double>(output.usage->completion_tokens) / generating;
      }
    }
    return to_task_output(output);
  }

  // Sends the request until an answer is 2xx, retrying what may succeed later. nullptr when
  // the task was cancelled meanwhile; throws when the endpoint keeps failing or refuses.
  std::unique_ptr<inferencesh::ResponseStream> open(const inferencesh::HttpRequest& request,
                                                    const inferencesh::CancellationToken& cancel,
                                                    AppContext& context) {
    inferencesh::RetryOptions retry;
    retry.max_retries = static_cast<int>(setup_.max_retries);
    retry.initial_backoff = std::chrono::milliseconds(setup_.retry_delay_ms);
    retry.max_backoff = std::chrono::milliseconds(30000);
    retry.max_retry_after = kMaxRetryAfter;
    for (int attempt = 0;; ++attempt) {
      std::string failure;
      bool retryable = false;
      std::optional<std::chrono::seconds> retry_after;
      try {
        auto response = transport_->open(request, cancel);
        const int status = response->status();
        if (status >= 200 && status < 300) return response;
        failure = "answered " + std::to_string(status) + ": " +
                  error_detail(read_bounded(*response, kMaxErrorBody));
        retryable = inferencesh::common::is_retryable_status(status);
        if (const auto header = inferencesh::find_header(response->headers(), "Retry-After")) {
          retry_after = inferencesh::detail::parse_retry_after(*header);
        }
      } catch (const inferencesh::CancelledError&) {
        return nullptr;
      } catch (const inferencesh::ConnectionError& e) {  // refused, reset, timed out
        failure = std::string("failed: ") + e.what() + " (is the server running?)";
        retryable = true;
      }
      if (context.cancelled()) return nullptr;
      if (!retryable) throw std::runtime_error(prefix() + " " + failure);
      const auto delay = inferencesh::detail::retry_delay(retry, attempt, retry_after,
                                                          inferencesh::detail::jitter_random());
      if (!delay) {
        if (attempt >= retry.max_retries) {
          throw std::runtime_error(prefix() + " " + failure + " (" + std::to_string(attempt + 1) +
                                   " attempts; giving up)");
        }
        throw std::runtime_error(prefix() + " " + failure + " (it asks to retry after " +
                                 std::to_string(retry_after ? retry_after->count() : 0) +
                                 " s, longer than infsh/openai-chat waits: " +
                                 std::to_string(kMaxRetryAfter.count() / 1000) + " s)");
      }
      context.log(secrets_->redact("infsh/openai-chat: " + url_ + " " + failure + "; retrying in " +
                                   seconds_text(*delay) + " (retry " + std::to_string(attempt + 1) +
                                   " of " + std::to_string(retry.max_retries) + ")"));
      if (!context.wait_for(*delay)) return nullptr;
    }
  }

  void read_events(inferencesh::ResponseStream& response, ChatCompletionStream& stream,
                   AppContext& context, std::optional<Clock::time_point>& first_token) {
    inferencesh::detail::SseFramer framer;
    std::string chunk;
    while (!stream.done() && response.next(chunk)) {
      bool grew = false;
      framer.feed(
          chunk,
          [&](inferencesh::detail::SseMessage&& message) {
            if (stream.done()) return;  // anything after [DONE] is not read
            if (stream.feed(message.data)) grew = true;
          },
          [](std::string_view) {});
      if (grew) {
        if (!first_token) first_token = Clock::now();
        context.partial_output(to_task_output(stream.partial()));
      }
    }
  }

  std::string prefix() const { return "infsh/openai-chat: POST " + url_; }

  OpenAIChatSetup setup_;
  std::optional<std::string> key_;
  std::string url_;
  std::shared_ptr<inferencesh::Transport> transport_;
  std::shared_ptr<const Secrets> secrets_;
};

class OpenAIChatApp final : public App {
 public:
  explicit OpenAIChatApp(std::shared_ptr<const Secrets> secrets)
      : secrets_(std::move(secrets)), transport_(inferencesh::make_curl_transport()) {}

  std::optional<std::vector<std::string>> input_files(const std::string&) const override {
    return llm_input_files();
  }
  void validate(const std::string&, const json& input, const json& setup) const override {
    api_key(parse_openai_chat_setup(setup), *secrets_);
    read_llm_input(input);
  }
  std::unique_ptr<AppInstance> setup(const json& setup, AppContext&) override {
    OpenAIChatSetup parsed = parse_openai_chat_setup(setup);
    auto key = api_key(parsed, *secrets_);
    return std::make_unique<OpenAIChatInstance>(std::move(parsed), std::move(key), transport_,
                                                secrets_);
  }

 private:
  std::shared_ptr<const Secrets> secrets_;
  std::shared_ptr<inferencesh::Transport> transport_;
};

}  // namespace

std::shared_ptr<App> make_openai_chat_app(std::shared_ptr<const Secrets> secrets) {
  return std::make_shared<OpenAIChatApp>(std::move(secrets));
}

}  // namespace infsh::local::apps
