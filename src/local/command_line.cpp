#include "command_line.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace infsh::local {

namespace {

std::uint64_t parse_count(const std::string& option, const std::string& text, std::uint64_t max) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value > max) {
    throw std::invalid_argument(option + " expects a whole number up to " + std::to_string(max) +
                                ", not '" + text + "'");
  }
  return value;
}

// "15", "0.5", "2s" or "250ms" → milliseconds.
std::chrono::milliseconds parse_duration(const std::string& option, const std::string& text,
                                         bool allow_zero = false) {
  std::string number = text;
  double scale = 1000.0;
  if (number.size() > 2 && number.compare(number.size() - 2, 2, "ms") == 0) {
    number.resize(number.size() - 2);
    scale = 1.0;
  } else if (number.size() > 1 && number.back() == 's') {
    number.pop_back();
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  const bool zero_ok = allow_zero && value == 0.0;
  if (number.empty() || end != number.c_str() + number.size() || !(value > 0.0 || zero_ok) ||
      value * scale > 86400000.0) {
    throw std::invalid_argument(option + " expects a " + (allow_zero ? "" : "positive ") +
                                "duration in seconds (e.g. 15, 0.5, 250ms), not '" + text + "'");
  }
  return std::chrono::milliseconds(static_cast<long long>(value * scale + 0.5));
}

}  // namespace

std::string usage_text() {
  return "Usage: infsh-local [options]\n"
         "\n"
         "Serves the inference.sh API (tasks, files, sessions) on this machine, with\n"
         "built-in demo apps (infsh/echo, infsh/progress, infsh/fail, infsh/setup-counter,\n"
         "infsh/counter, infsh/file-info), the platform apps the official SDKs' suites call\n"
         "(infsh/text-templating, infsh/session-test) and the app programs given with --app.\n"
         "A task's webhook URL gets a POST of its final state (retried while it fails).\n"
         "Prints the URL it listens on as its first line of output.\n"
         "\n"
         "Options:\n"
         "  --host ADDRESS       address to bind (default 127.0.0.1)\n"
         "  --port PORT          port to bind; 0 picks a free one (default 0)\n"
         "  --api-key KEY        require 'Authorization: Bearer KEY' on API requests\n"
         "                       (default: $INFSH_LOCAL_API_KEY; none when unset)\n"
         "  --workers N          threads running app code (default 4)\n"
         "  --heartbeat SECONDS  idle interval of stream heartbeats (default 15; 250ms works)\n"
         "  --data-dir DIR       keep tasks, files and sessions in DIR (SQLite + file bytes),\n"
         "                       so a later infsh-local on DIR serves them again; tasks left\n"
         "                       running are then failed, sessions expired. Default: a fresh\n"
         "                       temporary directory removed at exit; ':memory:' keeps the\n"
         "                       database in memory\n"
         "  --log-level LEVEL    debug, info, warning, error or off (default warning)\n"
         "  --help               show this text\n"
         "  --version            show the version\n"
         "\n"
         "App programs (written with the infsh app library, or speaking its worker protocol):\n"
         "  --app NS/NAME=PATH   host the program PATH as app NS/NAME (repeatable). Each warm\n"
         "                       instance is one process, 'PATH worker', started on demand;\n"
         "                       PATH is started once at start-up to read its functions\n"
         "  --cancel-grace SECONDS\n"
         "                       how long a cancelled task's app may take to stop before its\n"
         "                       process is killed and the task ends cancelled (default 5)\n"
         "  --task-timeout SECONDS\n"
         "                       fail a setup or run of an app program that takes longer, and\n"
         "                       kill its process (default 0: no limit)\n"
         "  --worker-start-timeout SECONDS\n"
         "                       how long an app program may take to start (default 10)\n"
         "\n"
         "SIGINT or SIGTERM: stops accepting, cancels running tasks, sends every open stream\n"
         "its final state, stops the app programs' processes, and exits with status 0.\n";
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine line;
  if (const char* key = std::getenv("INFSH_LOCAL_API_KEY"); key != nullptr) {
    line.options.api_key = key;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string option = args[i];
    std::string value;
    bool has_value = false;
    if (const auto equals = option.find('=');
        option.rfind("--", 0) == 0 && equals != std::string::npos) {
      value = option.substr(equals + 1);
      option.resize(equals);
      has_value = true;
    }
    const auto take = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= args.size()) throw std::invalid_argument(option + " needs a value");
      return args[++i];
    };
    if (option == "--help" || option == "-h") {
      line.help = true;
    } else if (option == "--version") {
      line.version = true;
    } else if (option == "--host") {
      line.options.host = take();
      if (line.options.host.empty()) throw std::invalid_argument("--host needs an address");
    } else if (option == "--port") {
      line.options.port = static_cast<std::uint16_t>(parse_count(option, take(), 65535));
    } else if (option == "--api-key") {
      line.options.api_key = take();
    } else if (option == "--workers") {
      line.options.workers = static_cast<std::size_t>(parse_count(option, take(), 1024));
      if (line.options.workers == 0) throw std::invalid_argument("--workers must be at least 1");
    } else if (option == "--heartbeat") {
      line.options.heartbeat_interval = parse_duration(option, take());
    } else if (option == "--data-dir") {
      line.options.data_dir = take();
      if (line.options.data_dir.empty()) throw std::invalid_argument("--data-dir needs a path");
    } else if (option == "--log-level") {
      line.options.log_level = parse_log_level(take());
    } else if (option == "--app") {
      const std::string spec = take();
      try {
        line.options.app_programs.push_back(parse_app_program(spec));
      } catch (const std::invalid_argument& e) {
        throw AppSpecError(std::string("--app ") + e.what());
      }
    } else if (option == "--cancel-grace") {
      line.options.cancel_grace = parse_duration(option, take());
    } else if (option == "--task-timeout") {
      line.options.task_timeout = parse_duration(option, take(), true);
    } else if (option == "--worker-start-timeout") {
      line.options.worker_start_timeout = parse_duration(option, take());
    } else {
      throw std::invalid_argument("unknown option '" + option + "' (see --help)");
    }
  }
  return line;
}

}  // namespace infsh::local
