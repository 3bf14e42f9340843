#pragma once

// An app with its types erased: what the command line, the worker and AppHost work with.
// infsh::define_app<App>() (base_app.hpp) builds one from an app class.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "infsh/context.hpp"
#include "infsh/file.hpp"

namespace infsh {

class BaseApp;

/// One function of an app ("run", ...), with its schemas and its two steps: decoding the input
/// (validation and file resolution) and calling the app.
struct FunctionDefinition {
  std::string name;
  std::string description;
  nlohmann::ordered_json input_schema;
  nlohmann::ordered_json output_schema;
  /// Where Files can appear in the input: JSON pointers with "*" for any item ("/images/*").
  std::vector<std::string> input_files;
  /// Decodes and validates the input and resolves its Files; throws ValidationError. The
  /// result is the typed input, handed to invoke.
  std::function<std::shared_ptr<void>(const nlohmann::json& input, const FileResolveOptions&)>
      decode_input;
  /// Calls the app's method with a decoded input and encodes what it returns.
  std::function<EncodedOutput(BaseApp& app, void* input, Context& context)> invoke;
};

/// An app: how to make an instance, how to set it up, and its functions.
struct AppDefinition {
  /// "namespace/name", the name `serve` registers; may be empty.
  std::string name;
  /// Makes a new instance.
  std::function<std::unique_ptr<BaseApp>()> create;
  /// The setup model's schema, when the app's setup takes one.
  std::optional<nlohmann::ordered_json> setup_schema;
  /// Where Files can appear in the setup (as input_files).
  std::vector<std::string> setup_files;
  /// Decodes and validates setup values (null: all defaults); throws ValidationError.
  std::function<std::shared_ptr<void>(const nlohmann::json& setup, const FileResolveOptions&)>
      decode_setup;
  /// Calls the app's setup with decoded values.
  std::function<void(BaseApp& app, void* setup, Context& context)> invoke_setup;
  /// The functions, in declaration order.
  std::vector<FunctionDefinition> functions;
  /// The function used when a request names none.
  std::string default_function = "run";

  /// The function called `name`, or nullptr.
  const FunctionDefinition* find(std::string_view function) const;
  /// functions_schema.json: {name: {description, input_schema, output_schema}, ...}.
  nlohmann::ordered_json functions_schema() const;
};

}  // namespace infsh
