#include "apps/builtin/openai_chat_request.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base64.hpp"
#include "infsh/local/app.hpp"
#include "support/secrets.hpp"

namespace infsh::local::apps {

INFSH_MODEL(OpenAIChatSetup, title("the setup"), forbid_extra(),
            INFSH_FIELD(base_url).min_length(1), INFSH_FIELD(model).min_length(1),
            INFSH_FIELD(api_key_secret), INFSH_FIELD(temperature).minimum(0).maximum(2),
            INFSH_FIELD(max_tokens).minimum(1), INFSH_FIELD(top_p).minimum(0).maximum(1),
            INFSH_FIELD(max_retries).minimum(0).maximum(10).with_default(),
            INFSH_FIELD(retry_delay_ms).minimum(0).maximum(60000).with_default(),
            INFSH_FIELD(timeout_s).minimum(1).maximum(86400).with_default())

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxImageBytes = std::uint64_t{20} << 20;  // per image, before base64
constexpr std::uint64_t kMaxTextFileBytes = std::uint64_t{256} << 10;

struct FileCloser {
  void operator()(std::FILE* file) const noexcept {
    std::fclose(file);  // NOLINT(cppcoreguidelines-owning-memory): the deleter is the owner
  }
};

std::string read_file(const std::string& path, std::uint64_t limit, const std::string& where) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) throw std::runtime_error(where + ": cannot read " + path + ": " + error.message());
  if (size > limit) {
    throw std::runtime_error(where + ": " + std::to_string(size) + " bytes; at most " +
                             std::to_string(limit) + " are sent to the model");
  }
  std::unique_ptr<std::FILE, FileCloser> in(std::fopen(path.c_str(), "rb"));
  if (!in) throw std::runtime_error(where + ": cannot open " + path);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (std::fread(bytes.data(), 1, bytes.size(), in.get()) != bytes.size()) {
    throw std::runtime_error(where + ": reading " + path + " failed");
  }
  return bytes;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string file_name(const File& file) {
  if (!file.filename.empty()) return file.filename;
  if (!file.path.empty()) return std::filesystem::path(file.path).filename().string();
  return file.uri.substr(0, 200);
}

// An image as an OpenAI content part: a local file as a data URI, else its URL.
json image_part(const File& image, const std::string& where) {
  std::string url;
  if (!image.path.empty()) {
    const std::string type = image.content_type.empty() ? "image/png" : image.content_type;
    url = "data:" + type + ";base64," +
          inferencesh::common::encode_base64(read_file(image.path, kMaxImageBytes, where));
  } else if (starts_with(image.uri, "http://") || starts_with(image.uri, "https://") ||
             starts_with(image.uri, "data:")) {
    url = image.uri;
  } else {
    throw std::runtime_error(where + ": an image must be a stored file, a URL or a data: URI");
  }
  return {{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}};
}

bool is_text(const std::string& content_type) {
  return starts_with(content_type, "text/") || content_type == "application/json" ||
         content_type == "application/xml" || content_type == "application/x-ndjson";
}

// Another file: a text file's contents, else a line naming it (chat endpoints take text and
// images only).
json file_part(const File& file, const std::string& where) {
  const std::string name = file_name(file);
  if (!file.path.empty() && is_text(file.content_type)) {
    return {{"type", "text"},
            {"text", "File " + name + ":\n" + read_file(file.path, kMaxTextFileBytes, where)}};
  }
  std::string note = "[attached file " + name;
  if (!file.content_type.empty()) note += ", " + file.content_type;
  if (file.size) note += ", " + std::to_string(*file.size) + " bytes";
  return {{"type", "text"}, {"text", note + "]"}};
}

// The content of a user or system message: plain text, or parts when it has attachments.
json content(const ContextMessage& message, const std::string& where) {
  const bool images = message.images && !message.images->empty();
  const bool files = message.files && !message.files->empty();
  if (!images && !files) return message.text;
  json parts = json::array();
  if (!message.text.empty()) parts.push_back({{"type", "text"}, {"text", message.text}});
  if (images) {
    for (std::size_t i = 0; i < message.images->size(); ++i) {
      parts.push_back(
          image_part((*message.images)[i], where + ".images[" + std::to_string(i) + "]"));
    }
  }
  if (files) {
    for (std::size_t i = 0; i < message.files->size(); ++i) {
      parts.push_back(file_part((*message.files)[i], where + ".files[" + std::to_string(i) + "]"));
    }
  }
  return parts;
}

json message_json(const ContextMessage& message, const std::string& where) {
  switch (message.role) {
    case ContextMessageRole::assistant: {
      json out = {{"role", "assistant"}};
      const bool calls = message.tool_calls && !message.tool_calls->empty();
      out["content"] = message.text.empty() && calls ? json(nullptr) : json(message.text);
      if (calls) out["tool_calls"] = json(*message.tool_calls);
      return out;
    }
    case ContextMessageRole::tool:
      return {{"role", "tool"},
              {"tool_call_id", message.tool_call_id.value_or("")},
              {"content", message.text}};
    case ContextMessageRole::system:
      return {{"role", "system"}, {"content", content(message, where)}};
    case ContextMessageRole::user:
    default:
      return {{"role", "user"}, {"content", content(message, where)}};
  }
}

}  // namespace

OpenAIChatSetup parse_openai_chat_setup(const json& setup) {
  if (setup.is_null()) {
    throw InvalidInputError("setup",
                            "infsh/openai-chat needs a setup: {\"base_url\": "
                            "\"http://127.0.0.1:8080/v1\", \"model\": \"...\"}");
  }
  OpenAIChatSetup parsed;
  try {
    parsed = decode<OpenAIChatSetup>(setup, "setup");
  } catch (const ValidationError& e) {
    throw InvalidInputError(e.issues().front().path, e.what());
  }
  if (!starts_with(parsed.base_url, "http://") && !starts_with(parsed.base_url, "https://")) {
    throw InvalidInputError("setup.base_url",
                            "setup.base_url: must be an http:// or https:// URL, such as "
                            "http://127.0.0.1:8080/v1 (llama.cpp) or http://127.0.0.1:11434/v1 "
                            "(Ollama)");
  }
  if (parsed.api_key_secret) {
    try {
      check_secret_name(*parsed.api_key_secret);
    } catch (const std::invalid_argument& e) {
      throw InvalidInputError("setup.api_key_secret",
                              std::string("setup.api_key_secret: ") + e.what());
    }
  }
  return parsed;
}

std::string chat_completions_url(const OpenAIChatSetup& setup) {
  std::string base = setup.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/chat/completions";
}

json chat_completions_body(const OpenAIChatSetup& setup, const LLMInput& input) {
  json messages = json::array();
  if (!input.system_prompt.empty()) {
    messages.push_back({{"role", "system"}, {"content", input.system_prompt}});
  }
  for (std::size_t i = 0; i < input.context.size(); ++i) {
    messages.push_back(message_json(input.context[i], "input.context[" + std::to_string(i) + "]"));
  }
  const auto all = conversation(input);
  if (all.size() > input.context.size()) messages.push_back(message_json(all.back(), "input"));

  json body = {{"model", setup.model},
               {"messages", std::move(messages)},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  if (input.tools && !input.tools->empty()) body["tools"] = json(*input.tools);
  if (const auto t = input.temperature ? input.temperature : setup.temperature) {
    body["temperature"] = *t;
  }
  if (const auto p = input.top_p ? input.top_p : setup.top_p) body["top_p"] = *p;
  if (const auto m = input.max_tokens ? input.max_tokens : setup.max_tokens) {
    body["max_tokens"] = *m;
  }
  return body;
}

}  // namespace infsh::local::apps
