// The built-in apps. The demo apps live here; each takes the real path through the engine
// (validation, setup, warm reuse, logs, partial output, cancellation, failure). The stand-ins
// for the platform apps that the official SDKs' integration suites call have files of their
// own. Other tests and tools rely on their contracts, so change them only together.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "apps/builtin/app_input.hpp"
#include "apps/builtin/builtin_apps.hpp"
#include "infsh/local/app.hpp"
#include "tasks/task_files.hpp"

namespace infsh::local {

namespace {

using apps::integer_field;
using nlohmann::json;

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
      const auto delay =
          std::chrono::milliseconds(integer_field(input, "delay_ms", 200, 0, kMaxDelay));
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
      throw InvalidInputError("input",
                              std::string("input must be an object, not ") + input.type_name());
    }
    const auto it = input.find("message");
    if (it != input.end() && !it->is_null() && !it->is_string()) {
      throw InvalidInputError(
          "input.message", std::string("input.message must be a string, not ") + it->type_name());
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
      throw InvalidInputError("setup.model",
                              std::string("setup.model must be a string, not ") + it->type_name());
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

// ---- infsh/counter: {} → {calls: N}, the calls its instance has served ----------------------
// State kept in the instance, so a session (one instance) counts 1, 2, 3, ...

class CounterApp final : public App {
  class Instance final : public AppInstance {
    json run(const std::string&, const json&, AppContext&) override {
      return {{"calls", ++calls_}};
    }
    std::int64_t calls_ = 0;
  };

 public:
  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>();
  }
};

// ---- infsh/file-info: {file} → facts about the file, and the file reversed as a new file -----

class FileInfoApp final : public App {
  static constexpr std::size_t kChunk = 64 * 1024;

  struct FileCloser {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
  };
  using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

  static std::string text(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  class Instance final : public AppInstance {
    json run(const std::string&, const json& input, AppContext& context) override {
      // Only a File object carries a path to open, and only the runtime can put one there.
      const json& file = input.at("file");
      if (!is_file_object(file, "path")) {
        throw std::runtime_error(
            "input.file: only files stored by this runtime (their uri) and data: URIs can be "
            "read, not " +
            file.dump().substr(0, 200));
      }
      const std::string path = text(file, "path");
      std::error_code error;
      if (!std::filesystem::is_regular_file(path, error)) {
        throw std::runtime_error("input.file: " + path + " is not a regular file");
      }
      FilePtr in(std::fopen(path.c_str(), "rb"));
      if (!in) throw std::runtime_error("input.file: cannot open " + path);
      std::fseek(in.get(), 0, SEEK_END);
      const long end = std::ftell(in.get());
      if (end < 0) throw std::runtime_error("input.file: cannot read " + path);
      const auto size = static_cast<std::uint64_t>(end);
      std::rewind(in.get());

      // The name is the client's: keep it from naming a place outside the output directory.
      std::string name = text(file, "filename");
      std::replace(name.begin(), name.end(), '/', '_');
      std::replace(name.begin(), name.end(), '\\', '_');
      if (name.empty() || name == "." || name == "..") name = "file";
      const auto reversed_path = context.output_directory() / ("reversed-" + name);
      FilePtr out(std::fopen(reversed_path.c_str(), "wb"));
      if (!out) throw std::runtime_error("cannot create " + reversed_path.string());

      // Forward: the FNV-1a checksum and the line count. Backward: the reversed copy, one
      // chunk at a time, so memory stays flat whatever the size.
      std::uint64_t hash = 1469598103934665603ULL;
      std::uint64_t lines = 0;
      std::string chunk(kChunk, '\0');
      for (std::size_t n; (n = std::fread(chunk.data(), 1, kChunk, in.get())) > 0;) {
        if (context.cancelled()) return json::object();
        for (std::size_t i = 0; i < n; ++i) {
          hash ^= static_cast<unsigned char>(chunk[i]);
          hash *= 1099511628211ULL;
          if (chunk[i] == '\n') ++lines;
        }
      }
      for (std::uint64_t remaining = size; remaining > 0;) {
        if (context.cancelled()) return json::object();
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, kChunk));
        remaining -= n;
        chunk.resize(n);
        if (std::fseek(in.get(), static_cast<long>(remaining), SEEK_SET) != 0 ||
            std::fread(chunk.data(), 1, n, in.get()) != n) {
          throw std::runtime_error("input.file: reading " + path + " failed");
        }
        std::reverse(chunk.begin(), chunk.end());
        if (std::fwrite(chunk.data(), 1, n, out.get()) != n) {
          throw std::runtime_error("writing " + reversed_path.string() + " failed");
        }
      }
      if (std::fclose(out.release()) != 0) {
        throw std::runtime_error("writing " + reversed_path.string() + " failed");
      }
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
      const std::string content_type = text(file, "content_type");
      return {{"filename", name},
              {"content_type", content_type},
              {"size", size},
              {"lines", lines},
              {"fnv1a64", hex},
              {"reversed",
               {{"path", reversed_path.string()},
                {"content_type", content_type},
                {"filename", "reversed-" + name}}}};
    }
  };

 public:
  void validate(const std::string&, const json& input, const json&) const override {
    if (!input.is_object()) {
      throw InvalidInputError("input", std::string("input must be an object like {\"file\": "
                                                   "\"<uri>\"}, not ") +
                                           input.type_name());
    }
    const auto it = input.find("file");
    if (it == input.end() || it->is_null()) {
      throw InvalidInputError("input.file", "input.file is required: a file's uri or a data: URI");
    }
    if (!it->is_string() && !it->is_object()) {
      throw InvalidInputError("input.file", std::string("input.file must be a uri or a file "
                                                        "object, not ") +
                                                it->type_name());
    }
  }
  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>();
  }
};

}  // namespace

void add_demo_apps(AppRegistry& registry) {
  registry.add("infsh/echo", std::make_shared<EchoApp>());
  registry.add("infsh/progress", std::make_shared<ProgressApp>());
  registry.add("infsh/fail", std::make_shared<FailApp>());
  registry.add("infsh/setup-counter", std::make_shared<SetupCounterApp>());
  registry.add("infsh/counter", std::make_shared<CounterApp>());
  registry.add("infsh/file-info", std::make_shared<FileInfoApp>());
  registry.add("infsh/text-templating", apps::make_text_templating_app());
  registry.add("infsh/session-test", apps::make_session_test_app());
  registry.add("infsh/scripted-llm", apps::make_scripted_llm_app());
}

}  // namespace infsh::local
