// One agent turn through infsh-local, in milliseconds, with infsh/scripted-llm as the core:
//
// - no tool: the first turn of a chat (made with POST /chats) whose stream is open: POST
//   /agents/run until the stream says the chat is idle (the answer streamed in pieces on the
//   way), as the JS SDK sends to an existing chat;
// - client tool: the same, with the core calling a client tool: the stream shows the
//   invocation awaiting_input, POST /tools/{id} gives the result, the core answers, idle;
// - new chat: POST /agents/run without a chat, then the stream opened (as the SDKs do), until
//   idle; its next turn: a stream opened, then POST /agents/run to the chat (as the SDKs send to
//   a chat they are in), until idle;
// - new chat, client tool: the same with the client-tool agent (the SDKs' client-tool turn);
// - turn 81-100: client-tool turns late in one chat, whose core input holds every turn before.
//
// Plain HTTP/1.1 over sockets (keep-alive for the POSTs, one stream per chat), so the figure is
// the runtime's: its HTTP layer, the chat engine, the core's task on a worker, the store.
//
// Then many chats at once: C new chats (POST /agents/run, then each chat's stream opened, as the
// SDKs do), all C streams open together while the turns run, until every stream has said idle;
// the wall time, and the runtime's memory (VmRSS sampled every 5 ms, VmHWM) and threads from
// /proc/<pid>/status. In the same run, against the same runtime, two SDK clients do the same
// turns, each in a process of its own (one after the other), sampled the same way:
//
// - this SDK's `inf::Agent` (client.agents.create(...).send_message), in this program started
//   again with --side agent: per-turn latencies (a new chat's first turn, its next turn, and a
//   new chat's client-tool turn whose C++ handler runs itself), then C agents' first turns at
//   once (C threads of one blocking Client);
// - the official JS SDK's headless Agent (bench/js_chats_bench.mjs, spawned with node): the same,
//   with onToolCall answered by submitToolResult.
//
// These turns of all three come with the client process's CPU time per turn, which the load of
// other programs on the machine changes much less than the latencies.
//
//     runtime_chats_bench [--runtime PATH] [--turns N] [--rounds R] [--concurrent C]
//                         [--node PATH] [--sdk-prefix DIR] [--no-js] [--no-agent]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "inferencesh/inferencesh.hpp"
#include "inferencesh/version.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// A blocking HTTP/1.1 connection to 127.0.0.1.
class Connection {
 public:
  explicit Connection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect failed");
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send_request(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& accept = "application/json") {
    std::string request =
        method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + accept + "\r\n";
    if (!body.empty()) {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    request += "\r\n" + body;
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      throw std::runtime_error("send failed");
    }
  }

  // A whole response with a Content-Length body (the API's JSON answers).
  json call(const std::string& method, const std::string& path, const std::string& body) {
    send_request(method, path, body);
    const std::size_t head_end = read_head();
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    const auto at = head.find("Content-Length: ");
    const std::size_t length = std::stoul(head.substr(at + 16));
    while (buffer_.size() < length) fill();
    json answer = json::parse(buffer_.substr(0, length));
    buffer_.erase(0, length);
    if (head.compare(9, 3, "200") != 0) throw std::runtime_error(head + "\n" + answer.dump());
    return answer;
  }

  // Opens a chat stream; read events with next_event().
  void open_stream(const std::string& chat_id) {
    send_request("GET", "/chats/" + chat_id + "/stream", "", "application/x-ndjson");
    const std::size_t head_end = read_head();
    buffer_.erase(0, head_end + 4);
  }

  // The next NDJSON event of an open (chunked) stream, heartbeats skipped.
  json next_event() {
    for (;;) {
      const auto newline = lines_.find('\n');
      if (newline != std::string::npos) {
        json event = json::parse(lines_.substr(0, newline));
        lines_.erase(0, newline + 1);
        if (event.contains("event")) return event;
        continue;
      }
      // De-chunk what has arrived.
      const auto line_end = buffer_.find("\r\n");
      if (line_end != std::string::npos) {
        const std::size_t size = std::stoul(buffer_.substr(0, line_end), nullptr, 16);
        if (size == 0) throw std::runtime_error("the stream ended");
        if (buffer_.size() >= line_end + 2 + size + 2) {
          lines_.append(buffer_, line_end + 2, size);
          buffer_.erase(0, line_end + 2 + size + 2);
          continue;
        }
      }
      fill();
    }
  }

 private:
  std::size_t read_head() {
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) fill();
    return end;
  }
  void fill() {
    pollfd descriptor{fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, 30000) <= 0) throw std::runtime_error("no answer in 30 s");
    char chunk[65536];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) throw std::runtime_error("connection closed");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }

  int fd_ = -1;
  std::string buffer_;
  std::string lines_;
};

bool is_chat(const json& event, const std::string& status) {
  return event.at("event") == "chats" && event.at("data").at("status") == status;
}

// The id of an invocation awaiting_input in a chat_messages event, or "".
std::string waiting_invocation(const json& event) {
  if (event.at("event") != "chat_messages") return {};
  for (const auto& invocation : event.at("data").at("tool_invocations")) {
    if (invocation.at("status") == "awaiting_input") return invocation.at("id");
  }
  return {};
}

std::string run_body(const std::string& agent, const std::string& chat_id,
                     const std::string& text) {
  json body = {{"agent", agent}, {"input", {{"text", text}}}};
  if (!chat_id.empty()) body["chat_id"] = chat_id;
  return body.dump();
}

// CPU time of this process (every thread, exited ones included), in ms.
double process_cpu_ms() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

double millis_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Figures {
  std::vector<double> plain, tool, fresh, next, fresh_tool, late;
  double fresh_cpu_ms = 0, next_cpu_ms = 0, fresh_tool_cpu_ms = 0;  // this process's CPU
};

// Median, p90 and min of turn times in ms, picked as js_chats_bench.mjs picks them; with the
// client's CPU time over the turns (when measured), per turn.
json summary(std::vector<double> values, double cpu_ms = -1) {
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
  };
  json figures = {{"turns", values.size()},
                  {"median_ms", at(0.5)},
                  {"p90_ms", at(0.9)},
                  {"min_ms", values.front()}};
  if (cpu_ms >= 0) figures["cpu_ms_per_turn"] = cpu_ms / static_cast<double>(values.size());
  return figures;
}

void print(const char* name, const json& figures) {
  std::printf("  %-22s median %6.2f ms   p90 %6.2f ms   min %6.2f ms   (%d turns)", name,
              figures.at("median_ms").get<double>(), figures.at("p90_ms").get<double>(),
              figures.at("min_ms").get<double>(), figures.at("turns").get<int>());
  if (figures.contains("cpu_ms_per_turn")) {
    std::printf("   client CPU %.2f ms/turn", figures.at("cpu_ms_per_turn").get<double>());
  }
  std::printf("\n");
}

// ---- the runtime's process, from /proc/<pid>/status

struct ProcessSample {
  long rss_kib = 0;  // VmRSS
  long hwm_kib = 0;  // VmHWM: the peak RSS of the process so far
  long threads = 0;
};

ProcessSample sample(pid_t pid) {
  ProcessSample s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    const auto field = [&](const char* name, long& out) {
      if (line.rfind(name, 0) == 0)
        out = std::strtol(line.c_str() + std::strlen(name), nullptr, 10);
    };
    field("VmRSS:", s.rss_kib);
    field("VmHWM:", s.hwm_kib);
    field("Threads:", s.threads);
  }
  return s;
}

// Samples a process every 5 ms while it lives: the largest RSS and thread count seen.
class Sampler {
 public:
  explicit Sampler(pid_t pid) : pid_(pid), before_(sample(pid)), thread_([this] { run(); }) {}
  ~Sampler() { finish(); }
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long max_threads() const { return max_threads_; }
  void print(const char* label) {
    finish();
    const ProcessSample after = sample(pid_);
    std::printf(
        "  %-22s runtime RSS %6.1f MiB before, max %6.1f MiB during (VmHWM %6.1f MiB); "
        "threads %ld before, max %ld during\n",
        label, static_cast<double>(before_.rss_kib) / 1024,
        static_cast<double>(max_rss_kib_) / 1024, static_cast<double>(after.hwm_kib) / 1024,
        before_.threads, max_threads_);
  }

 private:
  void run() {
    while (!stop_) {
      const ProcessSample now = sample(pid_);
      max_rss_kib_ = std::max(max_rss_kib_, now.rss_kib);
      max_threads_ = std::max(max_threads_, now.threads);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  pid_t pid_;
  ProcessSample before_;
  long max_rss_kib_ = 0;
  long max_threads_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;  // the runtime, started after, inherits it
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// ---- this SDK's inf::Agent, in a process of its own (--side agent)

constexpr const char* kPlainAnswer = "The answer, streamed in pieces.";

// A new chat's first turn of acme/plain; checks the answer.
void plain_agent_turn(inf::Agent& agent) {
  std::string ready_id;
  const inf::AgentResponse reply = agent.send_message(
      "hello", {.on_message = [&](const inf::ChatMessage& message) {
        if (message.role == "assistant" && message.status == inf::MessageStatus::ready) {
          ready_id = message.id;
        }
      }});
  if (!reply.turn_ended() || reply.text() != kPlainAnswer ||
      reply.assistant_message.id != ready_id) {
    throw std::runtime_error("unexpected answer: " + reply.assistant_message.raw.dump());
  }
}

// Figures of n turns, each of a new agent (made before the clock starts, as the JS side does):
// its first turn, and with `next`, its second as well (the chat's stream opened before the POST).
struct AgentTurns {
  json first;
  json next;
};
template <class Make, class Turn>
AgentTurns timed_agent_turns(int n, const Make& make, const Turn& turn, bool next = false) {
  std::vector<double> first;
  std::vector<double> second;
  double first_cpu = 0;
  double second_cpu = 0;
  for (int i = 0; i < n; ++i) {
    inf::Agent agent = make();
    for (auto* millis : {&first, &second}) {
      double& cpu = millis == &first ? first_cpu : second_cpu;
      const double cpu_before = process_cpu_ms();
      const auto start = Clock::now();
      turn(agent);
      millis->push_back(millis_since(start));
      cpu += process_cpu_ms() - cpu_before;
      if (!next) break;
    }
  }
  return {summary(std::move(first), first_cpu),
          next ? summary(std::move(second), second_cpu) : json()};
}

// Prints one JSON line: per-turn figures (with this process's CPU time per turn), the concurrent
// wall time, this process's peak RSS and its peak threads during the burst (the 5 ms sampler's
// own thread included).
int run_agent_side(const std::string& url, const std::string& tool_config, int concurrent,
                   int turns) {
  inf::ClientOptions options;
  options.api_key = "sk-bench-unused";
  options.base_url = url;
  options.request_timeout = std::chrono::seconds(120);
  options.connect_timeout = std::chrono::seconds(60);
  auto client = inf::inference(options);

  // The client-tool agent: the acme/tool template's core, sent ad hoc with the tool's handler.
  const json config = json::parse(std::ifstream(tool_config));
  const json& core = config.at("core_app");
  std::atomic<int> handled{0};
  const auto make_tool_agent = [&] {
    return client.agents.create(inf::AdHocAgentOptions{
        .core_app = inf::CoreApp(core.at("ref").get<std::string>(), core.at("setup")),
        .tools = {inf::tool("ask")
                      .handler([&handled](const json&) {
                        ++handled;
                        return std::string("yes");
                      })
                      .build()},
        .name = "bench-tool-cpp"});
  };
  const auto tool_turn = [&](inf::Agent& agent) {
    handled = 0;
    const inf::AgentResponse reply = agent.send_message("hello");
    if (handled != 1 || !reply.turn_ended() || reply.text() != "You said yes.") {
      throw std::runtime_error("unexpected tool turn: " + std::to_string(handled.load()) +
                               " calls, " + reply.assistant_message.raw.dump());
    }
  };
  const auto make_plain_agent = [&] { return client.agents.create("acme/plain@1"); };

  // Warm-up: the connection pool, the core's warm instance.
  timed_agent_turns(20, make_plain_agent, plain_agent_turn, true);
  timed_agent_turns(20, make_tool_agent, tool_turn);

  // Per turn, one after another; then the burst, so that its aftermath in the runtime (1,000
  // chats to store and close) falls in the next side's warm-up, not in these turns.
  const AgentTurns plain = timed_agent_turns(turns, make_plain_agent, plain_agent_turn, true);
  const json tool = timed_agent_turns(turns, make_tool_agent, tool_turn).first;

  // C agents' first turns at once, one thread each (the blocking client).
  Sampler self(::getpid());
  std::vector<inf::Agent> agents;
  agents.reserve(static_cast<std::size_t>(concurrent));
  for (int i = 0; i < concurrent; ++i) agents.push_back(make_plain_agent());
  std::mutex failure_mutex;
  std::exception_ptr failure;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(agents.size());
  for (auto& agent : agents) {
    threads.emplace_back([&] {
      try {
        plain_agent_turn(agent);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds = millis_since(start) / 1000;
  if (failure) std::rethrow_exception(failure);
  self.finish();
  std::printf(
      "%s\n",
      json{{"sdk", std::string("inferencesh-cpp ") + inf::kVersion},
           {"concurrent", {{"chats", concurrent}, {"seconds", seconds}}},
           {"plain", plain.first},
           {"next", plain.next},
           {"tool", tool},
           {"client",
            {{"peak_rss_kib", sample(::getpid()).hwm_kib}, {"peak_threads", self.max_threads()}}}}
          .dump()
          .c_str());
  return 0;
}

// Runs one client side (a child process that prints its figures as a JSON line) against the
// runtime, sampling the runtime while it runs; prints and returns its figures.
json run_client_side(const char* label, const std::vector<std::string>& argv,
                     const std::vector<std::string>& environment, pid_t runtime) {
  Sampler sampler(runtime);
  inferencesh::testing::Subprocess side(argv, environment);
  const auto result = side.read_line_containing("\"concurrent\"", std::chrono::minutes(10));
  const auto status = side.wait(std::chrono::seconds(30));
  sampler.finish();
  if (!result || status != 0) {
    throw std::runtime_error(std::string(label) + " failed; its output:\n" + side.output());
  }
  json figures = json::parse(*result);
  const int chats = figures.at("concurrent").at("chats").get<int>();
  const double seconds = figures.at("concurrent").at("seconds").get<double>();
  std::printf("  %-22s %.2f s wall for %d turns (%.0f turns/s; %s)\n", label, seconds, chats,
              chats / seconds, figures.at("sdk").get<std::string>().c_str());
  sampler.print(label);
  print("  new chat, no tool", figures.at("plain"));
  print("  its next turn", figures.at("next"));
  print("  new chat, client tool", figures.at("tool"));
  std::printf("  %-22s client process: peak RSS %.1f MiB, peak threads %ld\n", label,
              figures.at("client").at("peak_rss_kib").get<double>() / 1024,
              figures.at("client").at("peak_threads").get<long>());
  return figures;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string runtime = INFSH_LOCAL_PROGRAM;
  std::string node = "node";
  std::string sdk_prefix = INFSH_JS_SDK_DEFAULT_PREFIX;
  if (const char* prefix = std::getenv("INFSH_JS_SDK_PREFIX"); prefix != nullptr)
    sdk_prefix = prefix;
  int turns = 200;
  int rounds = 3;
  int concurrent = 1000;
  bool js = true;
  bool with_agent = true;
  std::string side;  // the child's mode: "agent"
  std::string url;
  std::string tool_config;
  for (inferencesh::bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--runtime")) {
      runtime = flags.value();
    } else if (flags.is("--turns")) {
      turns = flags.count();
    } else if (flags.is("--rounds")) {
      rounds = flags.count();
    } else if (flags.is("--concurrent")) {
      concurrent = flags.count();
    } else if (flags.is("--node")) {
      node = flags.value();
    } else if (flags.is("--sdk-prefix")) {
      sdk_prefix = flags.value();
    } else if (flags.is("--no-js")) {
      js = false;
    } else if (flags.is("--no-agent")) {
      with_agent = false;
    } else if (flags.is("--side")) {
      side = flags.value();
    } else if (flags.is("--url")) {
      url = flags.value();
    } else if (flags.is("--tool-config")) {
      tool_config = flags.value();
    } else {
      flags.unknown();
    }
  }
  raise_descriptor_limit();
  if (!side.empty()) {
    if (side != "agent") throw std::invalid_argument("--side must be agent");
    return run_agent_side(url, tool_config, concurrent, turns);
  }
  // Two templates: one answers in four pieces; one first calls a client tool.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("runtime_chats_bench." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const json answer = {{"text", "The answer, streamed in pieces."}};
  std::ofstream(dir / "plain.json")
      << json{{"core_app", {{"ref", "infsh/scripted-llm"}, {"setup", {{"default", answer}}}}}}
             .dump();
  const json tool_script = {
      {"steps",
       {{{"when", {{"tool_result_of", "ask"}}}, {"text", "You said {{last_tool_result}}."}}}},
      {"default",
       {{"text", "Asking."}, {"tool_calls", {{{"name", "ask"}, {"arguments", {{"q", 1}}}}}}}}};
  std::ofstream(dir / "tool.json")
      << json{{"core_app", {{"ref", "infsh/scripted-llm"}, {"setup", tool_script}}},
              {"tools", {{{"name", "ask"}, {"type", "client"}}}}}
             .dump();

  inferencesh::testing::Subprocess server({runtime, "--log-level", "off", "--agent",
                                           "acme/plain=" + (dir / "plain.json").string(), "--agent",
                                           "acme/tool=" + (dir / "tool.json").string()});
  const auto line = server.read_line_containing("http://", std::chrono::seconds(10));
  if (!line) throw std::runtime_error("infsh-local did not start");
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));

  Connection api(port);
  const auto until = [](Connection& stream, const auto& done) {
    for (;;) {
      json event = stream.next_event();
      if (done(event)) return event;
    }
  };
  const auto new_chat = [&](const std::string& agent) {
    return api.call("POST", "/agents/run", run_body(agent, "", "hello"))
        .at("data")
        .at("user_message")
        .at("chat_id")
        .get<std::string>();
  };

  // A chat of `agent` with its stream open, ready for a timed turn.
  struct OpenChat {
    std::string id;
    std::unique_ptr<Connection> stream;
  };
  const auto open_chat = [&](const std::string& agent) {
    OpenChat chat;
    chat.id = api.call("POST", "/chats", json{{"agent", agent}}.dump())
                  .at("data")
                  .at("id")
                  .get<std::string>();
    chat.stream = std::make_unique<Connection>(port);
    chat.stream->open_stream(chat.id);
    return chat;
  };
  // One turn of the client-tool agent: the call, the result, the answer.
  const auto tool_turn = [&](OpenChat& chat) {
    api.call("POST", "/agents/run", run_body("acme/tool@1", chat.id, "again"));
    const std::string id = waiting_invocation(
        until(*chat.stream, [](const json& e) { return !waiting_invocation(e).empty(); }));
    api.call("POST", "/tools/" + id, R"({"result": "yes"})");
    until(*chat.stream, [](const json& e) { return is_chat(e, "idle"); });
  };

  Figures all_rounds;  // rounds 1..R together, for the comparison with the SDK clients
  for (int round = 0; round <= rounds; ++round) {  // round 0 warms up
    const int n = round == 0 ? 20 : turns;
    Figures figures;
    for (int i = 0; i < n; ++i) {
      // No tool: the first turn of a chat whose stream is open (as the JS SDK does).
      OpenChat plain = open_chat("acme/plain@1");
      auto start = Clock::now();
      api.call("POST", "/agents/run", run_body("acme/plain@1", plain.id, "hello"));
      until(*plain.stream, [](const json& e) { return is_chat(e, "idle"); });
      figures.plain.push_back(millis_since(start));
      // One client-tool round trip.
      OpenChat tool = open_chat("acme/tool@1");
      start = Clock::now();
      tool_turn(tool);
      figures.tool.push_back(millis_since(start));
      // A new chat, its stream opened after the answer (as the SDKs do).
      start = Clock::now();
      double cpu = process_cpu_ms();
      const std::string chat = new_chat("acme/plain@1");
      {
        Connection stream(port);
        stream.open_stream(chat);
        until(stream, [](const json& e) { return is_chat(e, "idle"); });
      }
      figures.fresh.push_back(millis_since(start));
      figures.fresh_cpu_ms += process_cpu_ms() - cpu;
      // Its next turn, a stream opened before the POST (as the SDKs send to a chat they are in).
      start = Clock::now();
      cpu = process_cpu_ms();
      {
        Connection stream(port);
        stream.open_stream(chat);
        api.call("POST", "/agents/run", run_body("acme/plain@1", chat, "again"));
        until(stream, [](const json& e) { return is_chat(e, "idle"); });
      }
      figures.next.push_back(millis_since(start));
      figures.next_cpu_ms += process_cpu_ms() - cpu;
      // A new chat's client-tool turn, its stream opened after the answer (as the SDKs do).
      start = Clock::now();
      cpu = process_cpu_ms();
      const std::string tool_chat = new_chat("acme/tool@1");
      Connection tool_stream(port);
      tool_stream.open_stream(tool_chat);
      const std::string id = waiting_invocation(
          until(tool_stream, [](const json& e) { return !waiting_invocation(e).empty(); }));
      api.call("POST", "/tools/" + id, R"({"result": "yes"})");
      until(tool_stream, [](const json& e) { return is_chat(e, "idle"); });
      figures.fresh_tool.push_back(millis_since(start));
      figures.fresh_tool_cpu_ms += process_cpu_ms() - cpu;
    }
    // The 100th client-tool turn of one chat: the core's input holds the 99 turns before it.
    OpenChat long_chat = open_chat("acme/tool@1");
    for (int i = 0; i < 80; ++i) tool_turn(long_chat);
    for (int i = 0; i < 20; ++i) {
      const auto start = Clock::now();
      tool_turn(long_chat);
      figures.late.push_back(millis_since(start));
    }
    if (round == 0) continue;
    all_rounds.fresh.insert(all_rounds.fresh.end(), figures.fresh.begin(), figures.fresh.end());
    all_rounds.fresh_cpu_ms += figures.fresh_cpu_ms;
    all_rounds.next.insert(all_rounds.next.end(), figures.next.begin(), figures.next.end());
    all_rounds.next_cpu_ms += figures.next_cpu_ms;
    all_rounds.fresh_tool_cpu_ms += figures.fresh_tool_cpu_ms;
    all_rounds.fresh_tool.insert(all_rounds.fresh_tool.end(), figures.fresh_tool.begin(),
                                 figures.fresh_tool.end());
    std::printf("round %d\n", round);
    print("no tool", summary(figures.plain));
    print("client tool", summary(figures.tool));
    print("new chat", summary(figures.fresh, figures.fresh_cpu_ms));
    print("its next turn", summary(figures.next, figures.next_cpu_ms));
    print("new chat, client tool", summary(figures.fresh_tool, figures.fresh_tool_cpu_ms));
    print("turn 81-100", summary(figures.late));
  }

  // Many chats at once: every new chat's turn started, every stream open, until all are idle.
  std::printf("%d chats at once\n", concurrent);
  double raw_seconds = 0;
  {
    Sampler sampler(server.pid());
    const auto start = Clock::now();
    std::vector<std::unique_ptr<Connection>> streams;
    streams.reserve(static_cast<std::size_t>(concurrent));
    for (int i = 0; i < concurrent; ++i) {
      const std::string chat = new_chat("acme/plain@1");
      streams.push_back(std::make_unique<Connection>(port));
      streams.back()->open_stream(chat);
    }
    for (auto& stream : streams) until(*stream, [](const json& e) { return is_chat(e, "idle"); });
    raw_seconds = millis_since(start) / 1000;
    sampler.finish();
    std::printf("  %-22s %.2f s wall for %d turns (%.0f turns/s)\n", "raw HTTP (this program)",
                raw_seconds, concurrent, concurrent / raw_seconds);
    sampler.print("raw HTTP (this program)");
  }
  // The same turns through the two SDK clients, each in its own process, one after the other.
  json cpp;
  json js_figures;
  if (with_agent) {
    cpp = run_client_side(
        "C++ inf::Agent",
        {argv[0], "--side", "agent", "--url", *line, "--tool-config", (dir / "tool.json").string(),
         "--concurrent", std::to_string(concurrent), "--turns", std::to_string(turns)},
        {}, server.pid());
  }
  if (js) {
    js_figures = run_client_side(
        "JS SDK Agent",
        {node, "--import", INFSH_ESM_HOOK, INFSH_JS_CHATS_BENCH, *line, "sk-bench-unused",
         std::to_string(concurrent), std::to_string(turns), (dir / "tool.json").string()},
        {"INFSH_JS_SDK_PREFIX=" + sdk_prefix}, server.pid());
  }

  // Side by side, and the JS SDK's figures over the C++ client's.
  std::printf("summary (medians; p90 in brackets; the client process's CPU time per turn)%s\n",
              with_agent && js ? "; JS / C++ is the ratio of the medians (of the CPU times)" : "");
  const bool both = with_agent && js;
  const auto ratio = [&](double js_value, double cpp_value) {
    std::array<char, 16> text{};
    std::snprintf(text.data(), text.size(), "%.2fx", js_value / cpp_value);
    return both ? std::string(text.data()) : std::string();
  };
  const auto row = [](const std::string& name, const std::string& raw, const std::string& cpp_cell,
                      const std::string& js_cell, const std::string& js_over_cpp) {
    std::printf("  %-24s %-20s %-20s %-20s %s\n", name.c_str(), raw.c_str(), cpp_cell.c_str(),
                js_cell.c_str(), js_over_cpp.c_str());
  };
  const json raw_plain = summary(all_rounds.fresh, all_rounds.fresh_cpu_ms);
  const json raw_next = summary(all_rounds.next, all_rounds.next_cpu_ms);
  const json raw_tool = summary(all_rounds.fresh_tool, all_rounds.fresh_tool_cpu_ms);
  const auto turn_row = [&](const std::string& name, const json& raw, const char* kind,
                            const char* field, const auto& format) {
    const auto value = [&](const json& f) { return f.at(kind).at(field).template get<double>(); };
    row(name, format(raw.at(field).get<double>(), raw.at("p90_ms").get<double>()),
        with_agent ? format(value(cpp), cpp.at(kind).at("p90_ms").get<double>()) : "",
        js ? format(value(js_figures), js_figures.at(kind).at("p90_ms").get<double>()) : "",
        both ? ratio(value(js_figures), value(cpp)) : "");
  };
  const auto latency = [](double median, double p90) {
    std::array<char, 48> text{};
    std::snprintf(text.data(), text.size(), "%.2f ms (%.2f)", median, p90);
    return std::string(text.data());
  };
  const auto cpu_time = [](double cpu, double) {
    std::array<char, 24> text{};
    std::snprintf(text.data(), text.size(), "%.2f ms", cpu);
    return std::string(text.data());
  };
  const auto seconds_of = [](const json& f) {
    return f.at("concurrent").at("seconds").get<double>();
  };
  const auto wall = [](double seconds) {
    std::array<char, 24> text{};
    std::snprintf(text.data(), text.size(), "%.2f s", seconds);
    return std::string(text.data());
  };
  row("", "raw HTTP", "C++ inf::Agent", "JS SDK Agent", both ? "JS / C++" : "");
  turn_row("new chat, no tool", raw_plain, "plain", "median_ms", latency);
  turn_row("its next turn", raw_next, "next", "median_ms", latency);
  turn_row("new chat, client tool", raw_tool, "tool", "median_ms", latency);
  turn_row("client CPU, no tool", raw_plain, "plain", "cpu_ms_per_turn", cpu_time);
  turn_row("client CPU, next turn", raw_next, "next", "cpu_ms_per_turn", cpu_time);
  turn_row("client CPU, client tool", raw_tool, "tool", "cpu_ms_per_turn", cpu_time);
  row(std::to_string(concurrent) + " chats at once", wall(raw_seconds),
      with_agent ? wall(seconds_of(cpp)) : "", js ? wall(seconds_of(js_figures)) : "",
      both ? ratio(seconds_of(js_figures), seconds_of(cpp)) : "");
  server.signal(SIGTERM);
  server.wait(std::chrono::seconds(10));
  std::filesystem::remove_all(dir);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "runtime_chats_bench: %s\n", e.what());
  return 1;
}
