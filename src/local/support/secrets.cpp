#include "support/secrets.hpp"

#include <algorithm>
#include <stdexcept>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace infsh::local {

namespace {

bool is_name_char(char c, bool first) {
  const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  return letter || (!first && c >= '0' && c <= '9');
}

bool is_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0)) return false;
  }
  return true;
}

}  // namespace

Secrets::Secrets(std::map<std::string, std::string> given, const char* const* environment) {
  if (environment == nullptr) environment = environ;
  for (const char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.substr(0, kSecretEnvironmentPrefix.size()) != kSecretEnvironmentPrefix) continue;
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    const auto name =
        text.substr(kSecretEnvironmentPrefix.size(), equals - kSecretEnvironmentPrefix.size());
    if (is_name(name)) values_[std::string(name)] = std::string(text.substr(equals + 1));
  }
  for (auto& [name, value] : given) values_[name] = std::move(value);
  for (const auto& [name, value] : values_) {
    if (!value.empty()) by_length_.emplace_back(value, name);
  }
  std::stable_sort(by_length_.begin(), by_length_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

std::optional<std::string> Secrets::find(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Secrets::redact(std::string text) const {
  for (const auto& [value, name] : by_length_) {
    const std::string replacement = "[secret " + name + "]";
    for (std::size_t at = text.find(value); at != std::string::npos;
         at = text.find(value, at + replacement.size())) {
      text.replace(at, value.size(), replacement);
    }
  }
  return text;
}

std::vector<std::string> Secrets::names() const {
  std::vector<std::string> names;
  names.reserve(values_.size());
  for (const auto& entry : values_) names.push_back(entry.first);
  return names;
}

std::string Secrets::how_to_set(std::string_view name) {
  return "start infsh-local with --secret " + std::string(name) + "=... or set " +
         std::string(kSecretEnvironmentPrefix) + std::string(name);
}

void check_secret_name(std::string_view name) {
  if (!is_name(name)) {
    throw std::invalid_argument("'" + std::string(name.substr(0, 128)) +
                                "' is not a secret name (letters, digits and '_', not starting "
                                "with a digit)");
  }
}

std::pair<std::string, std::string> parse_secret_spec(std::string_view spec) {
  const auto equals = spec.find('=');
  if (equals == std::string_view::npos) {
    throw std::invalid_argument(
        "--secret expects NAME=VALUE (what was given is not shown: it "
        "may be the secret)");
  }
  const auto name = spec.substr(0, equals);
  if (!is_name(name)) {
    throw std::invalid_argument(
        "--secret expects NAME=VALUE with a NAME of letters, digits and "
        "'_' (what was given is not shown: it may be the secret)");
  }
  return {std::string(name), std::string(spec.substr(equals + 1))};
}

}  // namespace infsh::local
