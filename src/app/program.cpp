// The app program: dispatches the command line to schema, run, serve or worker.

#include "infsh/program.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <utility>

#include "command_line.hpp"
#include "common/json_parse.hpp"
#include "infsh/app_host.hpp"
#include "infsh/version.hpp"
#include "infsh_local_locator.hpp"
#include "signal_watcher.hpp"
#include "stdio_redirect.hpp"
#include "worker.hpp"

namespace infsh {
namespace {

using detail::Command;
using detail::UsageError;

std::string program_name(int argc, char** argv) {
  if (argc < 1 || argv[0] == nullptr) return "app";
  return std::filesystem::path(argv[0]).filename().string();
}

// "local/<program name>" with '_' → '-' (app names on the platform use dashes).
std::string default_app_name(const AppDefinition& app, const std::string& program) {
  if (!app.name.empty()) return app.name;
  std::string name = std::filesystem::path(program).stem().string();
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return "local/" + (name.empty() ? std::string("app") : name);
}

// --input/--setup: "-" is stdin, text that starts with '{' or '[' is JSON, anything else a file.
nlohmann::json read_json_argument(const std::string& option, const std::string& value) {
  std::string text;
  if (value == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (detail::looks_like_json(value)) {
    text = value;
  } else {
    std::ifstream in(value, std::ios::binary);
    if (!in) throw UsageError(option + ": cannot read the file '" + value + "'");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  inferencesh::common::JsonParseError error;
  auto parsed = inferencesh::common::parse_untrusted_json(text, &error);
  if (!parsed) throw UsageError(option + ": malformed JSON (" + error.message + ")");
  return std::move(*parsed);
}

std::string number_text(double value) {
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  std::ostringstream out;
  out << value;
  return out.str();
}

void write_file(const std::filesystem::path& path, const nlohmann::ordered_json& json) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json.dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

int schema_command(const AppDefinition& app, const Command& command) {
  const FunctionDefinition* main_function = app.find(app.default_function);
  if (main_function == nullptr) throw std::logic_error("the app has no functions");
  if (command.print) {
    nlohmann::ordered_json all = {{"input_schema", main_function->input_schema},
                                  {"output_schema", main_function->output_schema}};
    if (app.setup_schema) all["setup_schema"] = *app.setup_schema;
    all["functions_schema"] = app.functions_schema();
    std::cout << all.dump(2) << "\n";
    return kExitOk;
  }
  const std::filesystem::path dir(command.out_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw std::runtime_error("cannot create " + dir.string() + ": " + error.message());
  std::vector<std::pair<std::string, nlohmann::ordered_json>> files = {
      {"input_schema.json", main_function->input_schema},
      {"output_schema.json", main_function->output_schema},
  };
  if (app.setup_schema) files.emplace_back("setup_schema.json", *app.setup_schema);
  files.emplace_back("functions_schema.json", app.functions_schema());
  for (const auto& [name, json] : files) {
    write_file(dir / name, json);
    std::cout << "wrote " << (dir / name).string() << "\n";
  }
  return kExitOk;
}

int exit_status_of(const RunOutcome& outcome) {
  if (outcome.status == RunOutcome::Status::cancelled) return kExitCancelled;
  if (outcome.error_kind == "invalid_input" || outcome.error_kind == "invalid_setup") {
    return kExitInvalidInput;
  }
  if (outcome.error_kind == "unknown_function") return kExitUsage;
  return kExitFailed;
}

std::string describe_failure(const RunOutcome& outcome) {
  if (outcome.status == RunOutcome::Status::cancelled) return "cancelled";
  if (outcome.error_kind == "invalid_input") return "invalid input: " + outcome.error;
  if (outcome.error_kind == "invalid_setup") return "invalid setup: " + outcome.error;
  if (outcome.error_kind == "setup_failed") return "setup failed: " + outcome.error;
  return outcome.error;
}

int run_command(const AppDefinition& app, const Command& command) {
  nlohmann::json input;
  if (command.input) {
    input = read_json_argument("--input", *command.input);
  } else if (std::filesystem::exists("input.json")) {
    input = read_json_argument("--input", "input.json");
  } else {
    throw UsageError("run needs --input FILE|JSON|- (or an input.json in this directory)");
  }
  nlohmann::json setup;
  if (command.setup) setup = read_json_argument("--setup", *command.setup);

  // The output JSON goes to the real stdout; whatever the app prints goes to stderr.
  const detail::PrivateStreams streams = detail::take_private_streams(false);

  Context::Sink sink;
  sink.log = [](LogLevel level, const std::string& message) {
    std::cerr << "[" << to_string(level) << "] " << message << std::endl;
  };
  sink.progress = [](double current, double total, const std::string& message) {
    std::cerr << "[progress] " << number_text(current) << "/" << number_text(total)
              << (message.empty() ? "" : " ") << message << std::endl;
  };
  sink.partial = [](const EncodedOutput& output) {
    std::cerr << "[partial] "
              << output.json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << std::endl;
  };

  AppHost host(app);
  RunOutcome outcome;
  {
    detail::SignalWatcher watcher([&host] {
      std::cerr << "cancelling (press Ctrl-C again to exit at once)" << std::endl;
      host.cancel();
    });
    outcome = host.setup(setup, sink);
    if (outcome.ok()) {
      RunRequest request;
      request.function = command.function;
      request.input = std::move(input);
      outcome = host.run(request, sink);
    }
  }
  host.unload();
  if (!outcome.ok()) {
    std::cerr << "error: " << describe_failure(outcome) << std::endl;
    return exit_status_of(outcome);
  }
  const std::string text =
      outcome.output.json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
      "\n";
  if (!detail::write_all(streams.out, text)) return kExitFailed;
  return kExitOk;
}

int serve_command(const AppDefinition& app, const Command& command, const std::string& argv0) {
  const std::string self = detail::self_executable_path(argv0);
  const auto local = detail::find_infsh_local(self);
  if (!local) {
    std::cerr << "error: infsh-local not found. Set INFSH_LOCAL to its path, put it next to this "
                 "program or on PATH (the build makes it as src/local/infsh-local)."
              << std::endl;
    return kExitFailed;
  }
  const std::string name = command.name.empty() ? default_app_name(app, self) : command.name;
  std::vector<std::string> args = {*local, "--port", command.port, "--app", name + "=" + self};
  args.insert(args.end(), command.local_args.begin(), command.local_args.end());
  std::vector<char*> pointers;
  pointers.reserve(args.size() + 1);
  for (auto& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  std::cerr << "serving " << name << " with " << *local << std::endl;
  ::execv(pointers[0], pointers.data());
  std::cerr << "error: cannot start " << *local << std::endl;
  return kExitFailed;
}

}  // namespace

int run_program(const AppDefinition& app, int argc, char** argv) {
  const std::string program = program_name(argc, argv);
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  try {
    const Command command = detail::parse_command_line(args);
    switch (command.kind) {
      case Command::Kind::help:
        std::cout << detail::usage_text(program);
        return kExitOk;
      case Command::Kind::version:
        std::cout << program << " (infsh " << kVersion << ")\n";
        return kExitOk;
      case Command::Kind::schema:
        return schema_command(app, command);
      case Command::Kind::run:
        return run_command(app, command);
      case Command::Kind::serve:
        return serve_command(app, command, argc > 0 ? argv[0] : program);
      case Command::Kind::worker:
        return detail::run_worker(app, default_app_name(app, program));
    }
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\nRun '" << program << " --help' for usage."
              << std::endl;
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return kExitFailed;
  }
  return kExitUsage;
}

}  // namespace infsh
