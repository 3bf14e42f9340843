#pragma once

// Secrets for the built-in apps (the API key infsh/openai-chat sends, ...): given with
// `--secret NAME=VALUE` (RuntimeOptions::secrets) or in the environment as INFSH_SECRET_<NAME>.
// A value never appears in logs, errors, task output or --help: apps read a value here and pass
// every text that leaves them through redact().

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infsh::local {

class Secrets {
 public:
  /// `given`: name → value; they win over the environment. `environment`: the process's
  /// environment, read once here ("NAME=VALUE" strings; nullptr: the process's `environ`).
  explicit Secrets(std::map<std::string, std::string> given = {},
                   const char* const* environment = nullptr);

  /// The value of secret `name`: the given one, else INFSH_SECRET_<name>; nullopt when neither
  /// is set. An empty value counts as set.
  std::optional<std::string> find(std::string_view name) const;

  /// `text` with every non-empty secret value known here replaced by "[secret NAME]" (longest
  /// values first, so that one value inside another is not half replaced).
  std::string redact(std::string text) const;

  /// The names of the secrets known here, sorted (never their values).
  std::vector<std::string> names() const;

  /// How to give secret `name` to the runtime, for error messages:
  /// "start infsh-local with --secret NAME=... or set INFSH_SECRET_NAME".
  static std::string how_to_set(std::string_view name);

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::pair<std::string, std::string>> by_length_;  // (value, name), longest first
};

/// The prefix of the environment variables holding secrets.
inline constexpr std::string_view kSecretEnvironmentPrefix = "INFSH_SECRET_";

/// Throws std::invalid_argument unless `name` is a secret name: letters, digits and '_', not
/// starting with a digit, at most 128 characters.
void check_secret_name(std::string_view name);

/// Splits "NAME=VALUE" (the value of --secret). Throws std::invalid_argument when it has no '='
/// or a bad name; the message never quotes the value (nor the whole text, which may be one).
std::pair<std::string, std::string> parse_secret_spec(std::string_view spec);

}  // namespace infsh::local
