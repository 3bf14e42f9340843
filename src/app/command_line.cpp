#include "command_line.hpp"

namespace infsh::detail {

std::string usage_text(const std::string& program) {
  return "Usage: " + program +
         " <command> [options]\n"
         "\n"
         "An inference.sh app written with the infsh C++ library.\n"
         "\n"
         "Commands:\n"
         "  schema [--out-dir DIR] [--print]\n"
         "      Write input_schema.json, output_schema.json, setup_schema.json (when the app\n"
         "      has setup parameters) and functions_schema.json into DIR (default: .);\n"
         "      --print writes them to stdout as one JSON object instead.\n"
         "  run [--input FILE|JSON|-] [--setup FILE|JSON|-] [--function NAME]\n"
         "      Run once and print the output JSON on stdout. Logs, progress and partial\n"
         "      outputs go to stderr; Ctrl-C cancels (twice: exits at once). Without --input,\n"
         "      ./input.json is used.\n"
         "  serve [--port PORT] [--name NAMESPACE/NAME] [-- INFSH-LOCAL OPTIONS]\n"
         "      Start infsh-local serving this app (found via $INFSH_LOCAL, next to this\n"
         "      program, or on PATH).\n"
         "  worker\n"
         "      Serve the worker protocol on stdin/stdout (used by infsh-local; see\n"
         "      docs/worker-protocol.md).\n"
         "\n"
         "Options:\n"
         "  --help, -h     show this text\n"
         "  --version      show the library version\n"
         "\n"
         "Exit status: 0 success, 1 the run or setup failed, 2 bad command line,\n"
         "3 invalid input or setup, 130 cancelled.\n";
}

bool looks_like_json(const std::string& text) {
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{' || c == '[';
  }
  return false;
}

Command parse_command_line(const std::vector<std::string>& args) {
  Command command;
  if (args.empty()) return command;
  const std::string& verb = args[0];
  if (verb == "--help" || verb == "-h" || verb == "help") return command;
  if (verb == "--version") {
    command.kind = Command::Kind::version;
    return command;
  }
  if (verb == "schema") {
    command.kind = Command::Kind::schema;
  } else if (verb == "run") {
    command.kind = Command::Kind::run;
  } else if (verb == "serve") {
    command.kind = Command::Kind::serve;
  } else if (verb == "worker") {
    command.kind = Command::Kind::worker;
  } else {
    throw UsageError("unknown command '" + verb + "' (expected schema, run, serve or worker)");
  }

  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string option = args[i];
    std::optional<std::string> inline_value;
    if (const auto equals = option.find('=');
        option.rfind("--", 0) == 0 && equals != std::string::npos) {
      inline_value = option.substr(equals + 1);
      option.resize(equals);
    }
    const auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw UsageError(option + " needs a value");
      return args[++i];
    };
    const auto flag = [&] {
      if (inline_value) throw UsageError(option + " takes no value");
    };
    if (option == "--help" || option == "-h") {
      flag();
      return Command{};
    }
    switch (command.kind) {
      case Command::Kind::schema:
        if (option == "--out-dir") {
          command.out_dir = value();
          if (command.out_dir.empty()) throw UsageError("--out-dir needs a directory");
          continue;
        }
        if (option == "--print") {
          flag();
          command.print = true;
          continue;
        }
        break;
      case Command::Kind::run:
        if (option == "--input") {
          command.input = value();
          continue;
        }
        if (option == "--setup") {
          command.setup = value();
          continue;
        }
        if (option == "--function") {
          command.function = value();
          if (command.function.empty()) throw UsageError("--function needs a name");
          continue;
        }
        break;
      case Command::Kind::serve:
        if (option == "--port") {
          command.port = value();
          if (command.port.empty() ||
              command.port.find_first_not_of("0123456789") != std::string::npos ||
              command.port.size() > 5 || std::stoul(command.port) > 65535) {
            throw UsageError("--port expects a number from 0 to 65535, not '" + command.port + "'");
          }
          continue;
        }
        if (option == "--name") {
          command.name = value();
          const auto slash = command.name.find('/');
          if (slash == std::string::npos || slash == 0 || slash + 1 == command.name.size() ||
              command.name.find('/', slash + 1) != std::string::npos) {
            throw UsageError("--name expects NAMESPACE/NAME, not '" + command.name + "'");
          }
          continue;
        }
        if (option == "--") {
          command.local_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
          return command;
        }
        break;
      default:
        break;
    }
    std::string message = "unknown option '";
    message.append(option).append("' for ").append(verb);
    throw UsageError(message);
  }
  return command;
}

}  // namespace infsh::detail
