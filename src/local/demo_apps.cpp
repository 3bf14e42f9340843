// The built-in demo apps. Each takes the real path through the engine (validation, setup, warm
// reuse, logs, partial output, cancellation, failure); other tests and tools rely on their
// contracts, so change them only together.

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "infsh/local/app.hpp"

namespace infsh::local {

namespace {

using nlohmann::json;

// The integer at input[key], or `fallback` when absent; InvalidInputError when of the wrong
// type or outside [low, high].
std::int64_t integer_field(const json& input, const char* key, std::int64_t fallback,
                           std::int64_t low, std::int64_t high) {
  const std::string name = std::string("input.") + key;
  if (!input.is_object()) {
    throw InvalidInputError("input", std::string("input must be an object, not ") +
                                         input.type_name());
  }
  const auto it = input.find(key);
  if (it == input.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    throw InvalidInputError(name, name + " must be an integer, not " + it->type_name());
  }
  const bool is_unsigned = it->is_number_unsigned();
  if (is_unsigned && it->get<std::uint64_t>() > static_cast<std::uint64_t>(high)) {
    throw InvalidInputError(name, name + " must be at most " + std::to_string(high));
  }
  const std::int64_t value = is_unsigned ? static_cast<std::int64_t>(it->get<std::uint64_t>())
                                         : it->get<std::int64_t>();
  if (value < low || value > high) {
    throw InvalidInputError(name, name + " must be between " + std::to_string(low) + " and " +
                                      std::to_string(high) + ", not " + std::to_string(value));
  }
  return value;
}

// ---- infsh/echo: output = input -----------------------------------------------------------------

class EchoApp final : public App {
  class Instance final : public AppInstance {
    json run(const std::string&, const json& input, AppContext&) override { return input; }
  };

 public:
  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>();
  }
};

// ---- infsh/progress: {steps = 5, delay_ms = 200} → a log line and {step: i} per step ----------

class ProgressApp final : public App {
  static constexpr std::int64_t kMaxSteps = 100000;
  static constexpr std::int64_t kMaxDelay = 3600000;

  class Instance final : public AppInstance {
    json run(const std::string&, const json& input, AppContext& context) override {
      const auto steps = integer_field(input, "steps", 5, 0, kMaxSteps);
      const auto delay = std::chrono::milliseconds(integer_field(input, "delay_ms", 200, 0, kMaxDelay));
      for (std::int64_t step = 1; step <= steps; ++step) {
        if (!context.wait_for(delay)) return {{"steps_done", step - 1}};  // cancelled
        context.log("step " + std::to_string(step) + "/" + std::to_string(steps));
        context.partial_output({{"step", step}});
      }
      return {{"steps_done", steps}};
    }
  };

 public:
  void validate(const std::string&, const json& input, const json&) const override {
    integer_field(input, "steps", 5, 0, kMaxSteps);
    integer_field(input, "delay_ms", 200, 0, kMaxDelay);
  }
  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>();
  }
};

// ---- infsh/fail: {message} → the task fails with that message --------------------------------

class FailApp final : public App {
  class Instance final : public AppInstance {
    json run(const std::string&, const json& input, AppContext&) override {
      const auto it = input.find("message");
      throw std::runtime_error(it != input.end() && it->is_string()
                                   ? it->get<std::string>()
                                   : std::string("infsh/fail failed, as it always does"));
    }
  };

 public:
  void validate(const std::string&, const json& input, const json&) const override {
    if (!input.is_object()) {
      throw InvalidInputError("input", std::string("input must be an object, not ") +
                                           input.type_name());
    }
    const auto it = input.find("message");
    if (it != input.end() && !it->is_null() && !it->is_string()) {
      throw InvalidInputError("input.message", std::string("input.message must be a string, not ") +
                                                   it->type_name());
    }
  }
  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>();
  }
};

// ---- infsh/setup-counter: setup {model} → {setup_calls, model} --------------------------------

class SetupCounterApp final : public App {
  // Shared with the instances, which may outlive the app in the warm pool.
  struct Counters {
    std::mutex mutex;
    std::map<std::string, std::int64_t> calls;  // by canonical setup JSON

    std::int64_t count(const std::string& key) {
      std::lock_guard lock(mutex);
      return calls[key];
    }
  };

  class Instance final : public AppInstance {
   public:
    Instance(std::shared_ptr<Counters> counters, std::string key, std::string model)
        : counters_(std::move(counters)), key_(std::move(key)), model_(std::move(model)) {}
    json run(const std::string&, const json&, AppContext&) override {
      return {{"setup_calls", counters_->count(key_)}, {"model", model_}};
    }

   private:
    std::shared_ptr<Counters> counters_;
    std::string key_;
    std::string model_;
  };

 public:
  void validate(const std::string&, const json&, const json& setup) const override {
    if (!setup.is_object()) {
      throw InvalidInputError("setup", "setup must be an object like {\"model\": \"...\"}");
    }
    const auto it = setup.find("model");
    if (it == setup.end() || it->is_null()) {
      throw InvalidInputError("setup.model", "setup.model is required");
    }
    if (!it->is_string()) {
      throw InvalidInputError("setup.model", std::string("setup.model must be a string, not ") +
                                                 it->type_name());
    }
  }

  std::unique_ptr<AppInstance> setup(const json& setup, AppContext&) override {
    std::string key = setup.dump();
    {
      std::lock_guard lock(counters_->mutex);
      ++counters_->calls[key];
    }
    return std::make_unique<Instance>(counters_, std::move(key),
                                      setup.at("model").get<std::string>());
  }

 private:
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
};

}  // namespace

void add_demo_apps(AppRegistry& registry) {
  registry.add("infsh/echo", std::make_shared<EchoApp>());
  registry.add("infsh/progress", std::make_shared<ProgressApp>());
  registry.add("infsh/fail", std::make_shared<FailApp>());
  registry.add("infsh/setup-counter", std::make_shared<SetupCounterApp>());
}

}  // namespace infsh::local
