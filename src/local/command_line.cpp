#include "command_line.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "support/secrets.hpp"

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

// "65536", "64KiB", "8MiB" or "1GiB" → bytes.
std::size_t parse_bytes(const std::string& option, const std::string& text) {
  static const std::array<std::pair<const char*, std::uint64_t>, 3> units = {
      {{"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}}};
  std::string number = text;
  std::uint64_t scale = 1;
  for (const auto& [unit, size] : units) {
    if (number.size() > 3 && number.compare(number.size() - 3, 3, unit) == 0) {
      number.resize(number.size() - 3);
      scale = size;
    }
  }
  const std::uint64_t max = std::uint64_t{1} << 40;
  std::uint64_t value = 0;
  const auto* end = number.data() + number.size();
  const auto [ptr, ec] = std::from_chars(number.data(), end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > max / scale) {
    throw std::invalid_argument(
        option + " expects a size in bytes (e.g. 65536, 64KiB, 8MiB), not '" + text + "'");
  }
  return static_cast<std::size_t>(value * scale);
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
  return std::chrono::milliseconds(std::llround(value * scale));
}

}  // namespace

std::string usage_text() {
  return "Usage: infsh-local [options]\n"
         "\n"
         "Serves the inference.sh API (tasks, files, sessions) on this machine, with\n"
         "built-in demo apps (infsh/echo, infsh/progress, infsh/fail, infsh/setup-counter,\n"
         "infsh/counter, infsh/file-info), the platform apps the official SDKs' suites call\n"
         "(infsh/text-templating, infsh/session-test), cores for agents (infsh/scripted-llm,\n"
         "infsh/openai-chat) and the app programs given with --app.\n"
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
         "  --secret NAME=VALUE  a secret the built-in apps may read (repeatable), such as the\n"
         "                       API key infsh/openai-chat sends (setup api_key_secret, default\n"
         "                       OPENAI_API_KEY), and that agents' http and hook tools put in\n"
         "                       their requests (${{secrets.NAME}} in a URL or header, bearer\n"
         "                       and api_key auth). Environment variables INFSH_SECRET_NAME are\n"
         "                       secrets too, and keep the value off the command line, which\n"
         "                       other local users can see. Values never appear in logs,\n"
         "                       errors or task output\n"
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
         "Agents and chats (POST /agents/run, /chats, /tools):\n"
         "  --agent NS/NAME=FILE.json\n"
         "                       serve the AgentConfig in FILE.json (core_app, system_prompt,\n"
         "                       tools, internal_tools, output_schema, ...) as the agent\n"
         "                       template NS/NAME, run as \"NS/NAME@anything\" (repeatable)\n"
         "  --agent-max-steps N  core calls in one agent turn; a turn that needs more ends\n"
         "                       failed, saying so (default 32)\n"
         "\n"
         "Requests from web pages, and what one client may cost (sizes: bytes, or KiB, MiB, GiB):\n"
         "  --allowed-host NAME  also answer requests for Host NAME (repeatable). On a loopback\n"
         "                       address (the default) only localhost, *.localhost, 127.0.0.0/8\n"
         "                       and [::1] are answered, others get 403, so that no web page can\n"
         "                       reach the runtime through DNS rebinding. On any address a\n"
         "                       request whose Origin is not the runtime's own gets 403 (browsers\n"
         "                       send one; the SDKs do not), and a JSON body sent without a JSON\n"
         "                       Content-Type gets 415 (uploads take any type). The API key and\n"
         "                       all of these are checked on the request head, before its body\n"
         "  --max-body-bytes N   largest JSON request body (default 8MiB; 413 beyond)\n"
         "  --max-header-bytes N largest request head; chunk extensions and trailers together\n"
         "                       have the same limit (default 16KiB; 431 beyond)\n"
         "  --max-buffered-body-bytes N\n"
         "                       request bodies held in memory at once, all connections\n"
         "                       together (default 64MiB): a JSON body beyond it gets 503, an\n"
         "                       upload waits\n"
         "  --request-timeout SECONDS\n"
         "                       a request head, or a JSON body, that takes longer closes the\n"
         "                       connection (408 for a body); also how long an idle connection\n"
         "                       is kept (default 30)\n"
         "  --min-body-rate N    bytes per second an upload must bring, on average over each\n"
         "                       request timeout (default 1024; 408 below)\n"
         "  --max-stream-backlog-bytes N\n"
         "                       unsent bytes one task stream may pile up before it is closed\n"
         "                       (default 4MiB; also closed after 30 s without progress)\n"
         "  --max-total-stream-backlog-bytes N\n"
         "                       unsent bytes of all streams together; beyond it a stream\n"
         "                       holding more than its share (this over the open streams)\n"
         "                       is closed (default 64MiB)\n"
         "  --max-unfinished-input-bytes N\n"
         "                       input and setup of unfinished tasks held in memory, all tasks\n"
         "                       together, counted as their request bodies (default 1GiB): a\n"
         "                       task beyond it gets 503 until some have finished\n"
         "  --finished-task-cache-bytes N\n"
         "                       finished tasks kept in memory for quick reads, all together,\n"
         "                       counted as their stored JSON (default 64MiB); older ones are\n"
         "                       read back from the database\n"
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
    } else if (option == "--finished-task-cache-bytes") {
      line.options.finished_task_cache_bytes = parse_bytes(option, take());
    } else if (option == "--max-unfinished-input-bytes") {
      line.options.max_unfinished_input_bytes = parse_bytes(option, take());
    } else if (option == "--log-level") {
      line.options.log_level = parse_log_level(take());
    } else if (option == "--app") {
      const std::string spec = take();
      try {
        line.options.app_programs.push_back(parse_app_program(spec));
      } catch (const std::invalid_argument& e) {
        throw AppSpecError(std::string("--app ") + e.what());
      }
    } else if (option == "--secret") {
      auto [name, secret] = parse_secret_spec(take());
      line.options.secrets[name] = std::move(secret);
    } else if (option == "--agent") {
      const std::string spec = take();
      try {
        line.options.agent_templates.push_back(parse_agent_template(spec));
      } catch (const std::invalid_argument& e) {
        throw AppSpecError(std::string("--agent ") + e.what());
      }
    } else if (option == "--agent-max-steps") {
      line.options.agent_max_steps = static_cast<int>(parse_count(option, take(), 10000));
      if (line.options.agent_max_steps == 0) {
        throw std::invalid_argument("--agent-max-steps must be at least 1");
      }
    } else if (option == "--cancel-grace") {
      line.options.cancel_grace = parse_duration(option, take());
    } else if (option == "--task-timeout") {
      line.options.task_timeout = parse_duration(option, take(), true);
    } else if (option == "--allowed-host") {
      line.options.allowed_hosts.push_back(take());
      if (line.options.allowed_hosts.back().empty()) {
        throw std::invalid_argument("--allowed-host needs a host name");
      }
    } else if (option == "--max-body-bytes") {
      line.options.max_body_bytes = parse_bytes(option, take());
    } else if (option == "--max-header-bytes") {
      line.options.max_header_bytes = parse_bytes(option, take());
    } else if (option == "--max-buffered-body-bytes") {
      line.options.max_buffered_body_bytes = parse_bytes(option, take());
    } else if (option == "--request-timeout") {
      line.options.request_timeout = parse_duration(option, take());
    } else if (option == "--min-body-rate") {
      line.options.min_body_rate = parse_bytes(option, take());
    } else if (option == "--max-stream-backlog-bytes") {
      line.options.max_stream_backlog_bytes = parse_bytes(option, take());
    } else if (option == "--max-total-stream-backlog-bytes") {
      line.options.max_total_stream_backlog_bytes = parse_bytes(option, take());
    } else if (option == "--worker-start-timeout") {
      line.options.worker_start_timeout = parse_duration(option, take());
    } else {
      throw std::invalid_argument("unknown option '" + option + "' (see --help)");
    }
  }
  return line;
}

}  // namespace infsh::local
