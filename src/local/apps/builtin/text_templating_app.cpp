// infsh/text-templating: the platform app the official SDKs' integration suites run
// ("infsh/text-templating@53bk0yzk"). Input {template, strings}; "{1}", "{2}", ... are replaced
// by strings[0], strings[1], ...; output {text}. Any version is served by this one.

#include <cstddef>
#include <string>
#include <string_view>

#include "apps/builtin/app_input.hpp"
#include "apps/builtin/builtin_apps.hpp"

namespace infsh::local::apps {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxDigits = 9;  // "{123456789}" at most: no overflow, any sane count

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// One pass from left to right: inserted strings are not scanned again, so a string holding
// "{2}" stays as it is. A placeholder without a string ({0}, {7} of 3) stays as written.
std::string render(std::string_view text, const json& strings) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      std::size_t end = i + 1;
      while (end < text.size() && end - i - 1 < kMaxDigits && is_digit(text[end])) ++end;
      if (end > i + 1 && end < text.size() && text[end] == '}') {
        std::size_t index = 0;
        for (std::size_t d = i + 1; d < end; ++d)
          index = index * 10 + static_cast<std::size_t>(text[d] - '0');
        if (index >= 1 && index <= strings.size()) {
          out += strings[index - 1].get_ref<const std::string&>();
          i = end + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

class TextTemplatingApp final : public App {
  class Instance final : public AppInstance {
    json run(const std::string&, const json& input, AppContext&) override {
      const auto it = input.find("strings");
      const json strings = it == input.end() || it->is_null() ? json::array() : *it;
      return {{"text", render(input.at("template").get_ref<const std::string&>(), strings)}};
    }
  };

 public:
  void validate(const std::string&, const json& input, const json&) const override {
    require_object(input, R"({"template": "Hello {1}!", "strings": ["world"]})");
    string_field(input, "template");
    const auto it = input.find("strings");
    if (it == input.end() || it->is_null()) return;
    if (!it->is_array()) {
      throw InvalidInputError("input.strings", std::string("input.strings must be an array of "
                                                           "strings, not ") +
                                                   it->type_name());
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        const std::string name = "input.strings[" + std::to_string(i) + "]";
        throw InvalidInputError(name, name + " must be a string, not " + (*it)[i].type_name());
      }
    }
  }

  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>();
  }
};

}  // namespace

std::shared_ptr<App> make_text_templating_app() { return std::make_shared<TextTemplatingApp>(); }

}  // namespace infsh::local::apps
