#pragma once

// infsh::BaseApp: the base of an inference.sh app written in C++.
//
//   class Hello : public infsh::BaseApp {
//    public:
//     void setup(const Setup& setup, infsh::Context& ctx);      // optional
//     Output run(const Input& input, infsh::Context& ctx);       // the default function
//     void unload() override;                                    // optional
//     void on_cancel() override;                                 // optional
//   };
//   INFSH_MAIN(Hello)   // a program with schema / run / serve / worker commands
//
// The input, output and setup types are read from the method signatures; they are models
// (INFSH_MODEL), and output types derive from infsh::BaseAppOutput. More functions than "run":
//
//   static infsh::Functions<Hello> functions() {
//     return {{"run", &Hello::run, "Greets someone"}, {"shout", &Hello::shout, "Greets loudly"}};
//   }
//
// A function or setup method may also leave out the Context parameter.

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "infsh/app_definition.hpp"
#include "infsh/context.hpp"
#include "infsh/detail/app_support.hpp"
#include "infsh/model.hpp"
#include "infsh/output_meta.hpp"

namespace infsh {

/// The base of every app class. One instance serves one setup value: it is created, set up,
/// runs tasks one at a time, and is unloaded when the worker stops or the setup changes.
class BaseApp {
 public:
  BaseApp() = default;
  virtual ~BaseApp() = default;
  BaseApp(const BaseApp&) = delete;
  BaseApp& operator=(const BaseApp&) = delete;

  /// Frees what setup acquired; called once, before the instance is destroyed.
  virtual void unload() {}

  /// Called on another thread when the running task is cancelled, after
  /// Context::cancel_requested() became true. Keep it short and thread-safe (set a flag,
  /// cancel an upstream job); the run itself should return soon after.
  virtual void on_cancel() {}
};

/// One function of app class App: a name, a method and a description. The method takes the
/// input model (and optionally Context&) and returns an output model.
template <class App>
class Function {
 public:
  template <class Method>
  Function(std::string name, Method method, std::string description = {}) {
    using Traits = detail::method_traits<Method>;
    using Input = typename Traits::argument;
    using Output = std::decay_t<typename Traits::result>;
    using Owner = typename Traits::owner;
    static_assert(std::is_base_of_v<Owner, App>, "the method is not a member of this app");
    static_assert(!std::is_void_v<Input>, "a function takes its input model as first parameter");
    static_assert(detail::is_model<Input>::value,
                  "a function's input type must be declared with INFSH_MODEL");
    static_assert(detail::is_model<Output>::value,
                  "a function's output type must be declared with INFSH_MODEL");
    static_assert(std::is_base_of_v<BaseAppOutput, Output>,
                  "a function's output type must derive from infsh::BaseAppOutput (it carries "
                  "output_meta)");

    definition_.name = std::move(name);
    definition_.description = std::move(description);
    definition_.input_schema = json_schema<Input>();
    definition_.output_schema = json_schema<Output>();
    definition_.input_files = file_locations<Input>();
    definition_.decode_input = [](const nlohmann::json& document, const FileResolveOptions& files) {
      auto value = std::make_shared<Input>(decode<Input>(document, "input"));
      detail::resolve_input_files(*value, "input", files);
      return std::shared_ptr<void>(std::move(value));
    };
    definition_.invoke = [method](BaseApp& base, void* input, Context& context) {
      auto& app = static_cast<App&>(base);
      const auto& typed = *static_cast<const Input*>(input);
      if constexpr (Traits::takes_context) {
        return detail::encode_output<Output>((app.*method)(typed, context));
      } else {
        (void)context;
        return detail::encode_output<Output>((app.*method)(typed));
      }
    };
  }

  /// The function with its types erased.
  const FunctionDefinition& definition() const noexcept { return definition_; }

 private:
  FunctionDefinition definition_;
};

/// What an app's static functions() returns.
template <class App>
using Functions = std::vector<Function<App>>;

/// Builds the type-erased definition of app class App: its setup (from `setup`'s signature,
/// if it has one), its functions (from a static `functions()`, else `run`) and its name (from
/// a static `app_name`, if any).
template <class App>
AppDefinition define_app() {
  static_assert(std::is_base_of_v<BaseApp, App>, "an app class derives from infsh::BaseApp");
  static_assert(std::is_default_constructible_v<App>, "an app class is default-constructible");
  AppDefinition app;
  if constexpr (detail::has_app_name<App>::value) app.name = std::string(App::app_name);
  app.create = [] { return std::unique_ptr<BaseApp>(std::make_unique<App>()); };

  if constexpr (detail::has_setup<App>::value) {
    using Method = decltype(&App::setup);
    using Traits = detail::method_traits<Method>;
    using Setup = typename Traits::argument;
    const Method method = &App::setup;
    if constexpr (std::is_void_v<Setup>) {
      app.decode_setup = [](const nlohmann::json&, const FileResolveOptions&) {
        return std::shared_ptr<void>();
      };
      app.invoke_setup = [method](BaseApp& base, void*, Context& context) {
        auto& self = static_cast<App&>(base);
        if constexpr (Traits::takes_context) {
          (self.*method)(context);
        } else {
          (void)context;
          (self.*method)();
        }
      };
    } else {
      static_assert(detail::is_model<Setup>::value,
                    "the setup type must be declared with INFSH_MODEL");
      app.setup_schema = json_schema<Setup>();
      app.setup_files = file_locations<Setup>();
      app.decode_setup = [](const nlohmann::json& document, const FileResolveOptions& files) {
        auto value = std::make_shared<Setup>(document.is_null()
                                                 ? decode<Setup>(nlohmann::json::object(), "setup")
                                                 : decode<Setup>(document, "setup"));
        detail::resolve_input_files(*value, "setup", files);
        return std::shared_ptr<void>(std::move(value));
      };
      app.invoke_setup = [method](BaseApp& base, void* setup, Context& context) {
        auto& self = static_cast<App&>(base);
        const auto& typed = *static_cast<const Setup*>(setup);
        if constexpr (Traits::takes_context) {
          (self.*method)(typed, context);
        } else {
          (void)context;
          (self.*method)(typed);
        }
      };
    }
  } else {
    app.decode_setup = [](const nlohmann::json&, const FileResolveOptions&) {
      return std::shared_ptr<void>();
    };
    app.invoke_setup = [](BaseApp&, void*, Context&) {};
  }

  if constexpr (detail::has_functions<App>::value) {
    for (const auto& function : App::functions()) app.functions.push_back(function.definition());
  } else {
    static_assert(detail::has_run<App>::value,
                  "an app needs a run method, or a static functions() listing its functions");
    app.functions.push_back(Function<App>("run", &App::run).definition());
  }
  if (app.find("run") == nullptr && !app.functions.empty()) {
    app.default_function = app.functions.front().name;
  }
  return app;
}

}  // namespace infsh
