// What a hostile or unlucky client can do to infsh-local's tasks, files and storage, measured on
// the real program. Each probe starts its own infsh-local (temporary data directory) and prints
// one figure per line:
//
// - files:   POST /apps/run of infsh/file-info with {"file": {"path": P}} for P = /etc/passwd, a
//            FIFO and /dev/zero: the answer, the bytes of /etc/passwd served back through the
//            output file, whether the FIFO task ends after a cancel, the CPU the /dev/zero task
//            burns, and whether the runtime still exits on SIGTERM.
// - uploads: a second PUT to a completed upload URL, and two PUTs racing on one URL: their
//            answers and which bytes the file holds afterwards.
// - memory:  N echo tasks of M MB each (150 x 7 MB by default), run to the end: the runtime's
//            resident memory (VmRSS) and its peak (VmHWM).
// - kill9:   C callers creating tasks as fast as they can; SIGKILL after T ms; a new runtime on
//            the same data directory: how many tasks whose creation was answered are missing.
// - lock:    a runtime with a running task; DATA/lock removed; a second runtime started on the
//            same directory: did it start, and what became of the first one's task.
// - creates: what an answered creation costs: N creations one after another (the median and
//            99th percentile of their latency) and N by C callers at once (creations per
//            second), with the C++ client. With --against PATH, the same against a second
//            infsh-local in alternating rounds, and the ratios. Not run unless named.
//
//     runtime_data_probe [--runtime PATH] [--tasks N] [--task-mb M] [--rounds R]
//                        [--callers C] [--kill-after-ms T] [--creates N] [--against PATH]
//                        [files|uploads|memory|kill9|lock|creates]...
//
// Without probe names, all but `creates` run. Extra infsh-local options can follow `--`.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "inferencesh/inferencesh.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace bench = inferencesh::bench;
namespace inf = inferencesh;
namespace fs = std::filesystem;
using inferencesh::testing::Subprocess;
using inferencesh::testing::TempDir;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct Options {
  std::string runtime = INFSH_LOCAL_PROGRAM;
  int tasks = 150;
  int task_mb = 7;
  int rounds = 3;
  int callers = 16;
  int kill_after_ms = 1500;
  int creates = 2000;
  std::string against;
  std::vector<std::string> probes;
  std::vector<std::string> extra;  // after --
};

// ---- raw HTTP: one request per connection ------------------------------------------------------

struct Answer {
  int status = 0;  // 0: no answer (refused, reset, timeout)
  std::string body;
  json data() const {
    const json parsed = json::parse(body, nullptr, false);
    if (parsed.is_object() && parsed.contains("data")) return parsed.at("data");
    return parsed;
  }
};

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string head_of(const std::string& method, const std::string& target, std::size_t length,
                    const std::string& content_type = "application/json") {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(length) +
         "\r\n\r\n";
}

// Reads up to the server's close and splits status and (de-chunked) body.
Answer read_answer(int fd, milliseconds timeout) {
  std::string raw;
  const auto deadline = Clock::now() + timeout;
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  Answer answer;
  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return answer;
  answer.status = std::stoi(raw.substr(9, 3));
  std::string body = raw.substr(end + 4);
  std::string head = raw.substr(0, end);
  std::transform(head.begin(), head.end(), head.begin(), ::tolower);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::string plain;
    std::size_t at = 0;
    while (at < body.size()) {
      const auto line = body.find("\r\n", at);
      if (line == std::string::npos) break;
      const auto size = std::stoul(body.substr(at, line - at), nullptr, 16);
      if (size == 0) break;
      plain += body.substr(line + 2, size);
      at = line + 2 + size + 2;
    }
    body = plain;
  }
  answer.body = std::move(body);
  return answer;
}

Answer request(std::uint16_t port, const std::string& method, const std::string& target,
               const std::string& body = {}, milliseconds timeout = milliseconds(30000)) {
  const int fd = connect_to(port);
  if (fd < 0) return {};
  Answer answer;
  if (send_all(fd, head_of(method, target, body.size())) && send_all(fd, body)) {
    answer = read_answer(fd, timeout);
  }
  ::close(fd);
  return answer;
}

std::string path_of(const std::string& url) {
  const auto scheme = url.find("://");
  return url.substr(url.find('/', scheme + 3));
}

// ---- the runtime --------------------------------------------------------------------------------

class Runtime {
 public:
  Runtime(const Options& options, const fs::path& data_dir, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {options.runtime,   "--port",      "0",    "--data-dir",
                                     data_dir.string(), "--log-level", "error"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), options.extra.begin(), options.extra.end());
    process_.emplace(argv);
    const auto line = process_->read_line_containing("http://", milliseconds(15000));
    if (line) {
      url_ = line->substr(line->find("http://"));
      port_ = static_cast<std::uint16_t>(std::stoi(url_.substr(url_.rfind(':') + 1)));
    }
  }

  bool started() const { return port_ != 0; }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  Subprocess& process() { return *process_; }

  // status and the answer's data
  Answer run(const json& body) { return request(port_, "POST", "/apps/run", body.dump()); }

  std::optional<json> task(const std::string& id) {
    const Answer answer = request(port_, "GET", "/tasks/" + id);
    if (answer.status != 200) return std::nullopt;
    return answer.data();
  }

  // Waits for a final status (10 completed, 11 failed, 12 cancelled); nullopt on timeout.
  std::optional<json> wait_final(const std::string& id, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const auto task = this->task(id);
      if (task && task->value("status", 0) >= 10) return task;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return std::nullopt;
  }

  bool wait_status(const std::string& id, int status, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const auto task = this->task(id);
      if (task && task->value("status", 0) == status) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

  void wait_written(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const Answer health = request(port_, "GET", "/health");
      if (health.status == 200 && health.data().value("pending_writes", 1) == 0) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

 private:
  std::optional<Subprocess> process_;
  std::string url_;
  std::uint16_t port_ = 0;
};

std::uint64_t status_kib(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::strlen(field)));
  }
  return 0;
}

// CPU seconds (user + system) the process has used.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
    if (i == 15) break;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- probes -------------------------------------------------------------------------------------

void probe_files(const Options& options) {
  std::printf("== files: a client-named local path as infsh/file-info's input\n");
  TempDir data;
  TempDir scratch;
  const fs::path fifo = scratch.path() / "fifo";
  if (::mkfifo(fifo.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
  Runtime runtime(options, data.path(), {"--workers", "2"});
  if (!runtime.started()) throw std::runtime_error("infsh-local did not start");
  const auto create = [&](const std::string& path) {
    return runtime.run({{"app", "infsh/file-info"}, {"input", {{"file", {{"path", path}}}}}});
  };

  {
    const Answer created = create("/etc/passwd");
    std::printf("/etc/passwd: POST /apps/run -> %d", created.status);
    if (created.status == 200) {
      const auto done = runtime.wait_final(created.data().at("id"), milliseconds(10000));
      std::string served;
      if (done && done->value("status", 0) == 10) {
        const std::string uri = done->at("output").at("reversed");
        served = request(runtime.port(), "GET", path_of(uri)).body;
      }
      std::string original = file_text("/etc/passwd");
      std::reverse(original.begin(), original.end());
      std::printf(
          "; %zu bytes served back (%s)", served.size(),
          !served.empty() && served == original ? "the reversed /etc/passwd" : "not /etc/passwd");
    } else {
      std::printf(" (%s)", created.data().value("detail", "").c_str());
    }
    std::printf("\n");
  }
  {
    const Answer created = create(fifo.string());
    std::printf("FIFO: POST /apps/run -> %d", created.status);
    if (created.status == 200) {
      const std::string id = created.data().at("id");
      runtime.wait_status(id, 7, milliseconds(5000));  // running
      std::this_thread::sleep_for(milliseconds(300));
      request(runtime.port(), "POST", "/tasks/" + id + "/cancel");
      const auto done = runtime.wait_final(id, milliseconds(3000));
      std::printf("; 3 s after its cancel the task %s", done ? "ended" : "is still cancelling");
    } else {
      std::printf(" (%s)", created.data().value("detail", "").c_str());
    }
    std::printf("\n");
  }
  {
    const Answer created = create("/dev/zero");
    std::printf("/dev/zero: POST /apps/run -> %d", created.status);
    if (created.status == 200) {
      const std::string id = created.data().at("id");
      runtime.wait_status(id, 7, milliseconds(5000));
      const double before = cpu_seconds(runtime.pid());
      std::this_thread::sleep_for(milliseconds(2000));
      const double used = cpu_seconds(runtime.pid()) - before;
      std::printf("; the runtime burns %.0f%% of a core while it runs", used / 2.0 * 100.0);
      request(runtime.port(), "POST", "/tasks/" + id + "/cancel");
      runtime.wait_final(id, milliseconds(3000));
    } else {
      std::printf(" (%s)", created.data().value("detail", "").c_str());
    }
    std::printf("\n");
  }
  runtime.process().signal(SIGTERM);
  const auto status = runtime.process().wait(milliseconds(10000));
  std::printf("SIGTERM: %s\n", status ? ("exited with status " + std::to_string(*status)).c_str()
                                      : "still running after 10 s (killed)");
  // Let a reader blocked on the FIFO go, whatever happened.
  const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (writer >= 0) ::close(writer);
}

json create_file(std::uint16_t port) {
  const Answer answer = request(port, "POST", "/files", R"({"files":[{"uri":""}]})");
  if (answer.status != 200) throw std::runtime_error("POST /files failed: " + answer.body);
  return answer.data().at(0);
}

void probe_uploads(const Options& options) {
  std::printf("== uploads: reusing an upload URL\n");
  TempDir data;
  Runtime runtime(options, data.path());
  if (!runtime.started()) throw std::runtime_error("infsh-local did not start");
  const auto port = runtime.port();
  const auto put = [&](const std::string& url, const std::string& bytes) {
    const int fd = connect_to(port);
    Answer answer;
    if (send_all(fd, head_of("PUT", path_of(url), bytes.size(), "text/plain")) &&
        send_all(fd, bytes)) {
      answer = read_answer(fd, milliseconds(10000));
    }
    ::close(fd);
    return answer;
  };
  {
    const json file = create_file(port);
    const int first = put(file.at("upload_url"), "original").status;
    const int second = put(file.at("upload_url"), "replaced by a second PUT").status;
    const std::string now = request(port, "GET", path_of(file.at("uri"))).body;
    std::printf("second PUT: first -> %d, second -> %d; the file now holds \"%s\"\n", first, second,
                now.c_str());
  }
  {
    const json file = create_file(port);
    const std::string target = path_of(file.at("upload_url"));
    const int a = connect_to(port);
    const int b = connect_to(port);
    send_all(a, head_of("PUT", target, 6, "text/plain") + "AAA");
    send_all(b, head_of("PUT", target, 6, "text/plain") + "BBB");
    std::this_thread::sleep_for(milliseconds(200));
    send_all(a, "AAA");
    const Answer first = read_answer(a, milliseconds(10000));
    send_all(b, "BBB");
    const Answer second = read_answer(b, milliseconds(10000));
    ::close(a);
    ::close(b);
    const std::string now = request(port, "GET", path_of(file.at("uri"))).body;
    std::printf(
        "two racing PUTs: the one finishing first -> %d, the other -> %d; "
        "the file holds \"%s\"\n",
        first.status, second.status, now.c_str());
  }
}

void probe_memory(const Options& options) {
  std::printf("== memory: %d echo tasks of %d MB\n", options.tasks, options.task_mb);
  TempDir data;
  Runtime runtime(options, data.path());
  if (!runtime.started()) throw std::runtime_error("infsh-local did not start");
  const auto idle = status_kib(runtime.pid(), "VmRSS:");
  const std::string text(static_cast<std::size_t>(options.task_mb) * 1000 * 1000, 'x');
  const std::string body = R"({"app":"infsh/echo","input":{"text":")" + text + "\"}}";
  std::vector<std::string> ids;
  int refused = 0;
  for (int i = 0; i < options.tasks; ++i) {
    const Answer created = request(runtime.port(), "POST", "/apps/run", body);
    if (created.status == 200) {
      ids.push_back(created.data().at("id"));
    } else {
      ++refused;
    }
  }
  int completed = 0;
  for (const auto& id : ids) {
    const auto deadline = Clock::now() + milliseconds(60000);
    while (Clock::now() < deadline) {
      const Answer status = request(runtime.port(), "GET", "/tasks/" + id + "/status");
      if (status.status == 200 && status.data().value("status", 0) >= 10) {
        completed += status.data().value("status", 0) == 10 ? 1 : 0;
        break;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  runtime.wait_written(milliseconds(60000));
  std::printf("tasks: %d completed, %d refused at creation\n", completed, refused);
  std::printf("runtime RSS: %.0f MiB idle, %.0f MiB after the tasks, peak %.0f MiB\n",
              static_cast<double>(idle) / 1024.0,
              static_cast<double>(status_kib(runtime.pid(), "VmRSS:")) / 1024.0,
              static_cast<double>(status_kib(runtime.pid(), "VmHWM:")) / 1024.0);
  runtime.process().signal(SIGTERM);
  runtime.process().wait(milliseconds(15000));
}

void probe_kill9(const Options& options) {
  std::printf("== kill9: %d callers creating tasks, SIGKILL after %d ms, %d rounds\n",
              options.callers, options.kill_after_ms, options.rounds);
  int total_answered = 0;
  int total_missing = 0;
  for (int round = 1; round <= options.rounds; ++round) {
    TempDir data;
    std::vector<std::string> answered;
    {
      Runtime runtime(options, data.path());
      if (!runtime.started()) throw std::runtime_error("infsh-local did not start");
      std::mutex mutex;
      std::atomic<bool> stop{false};
      std::vector<std::thread> callers;
      for (int c = 0; c < options.callers; ++c) {
        callers.emplace_back([&, c] {
          for (int i = 0; !stop; ++i) {
            const json body = {{"app", "infsh/echo"}, {"input", {{"caller", c}, {"i", i}}}};
            const Answer created =
                request(runtime.port(), "POST", "/apps/run", body.dump(), milliseconds(5000));
            if (created.status != 200) {
              if (created.status == 0) return;  // the runtime is gone
              continue;
            }
            std::lock_guard lock(mutex);
            answered.push_back(created.data().at("id"));
          }
        });
      }
      std::this_thread::sleep_for(milliseconds(options.kill_after_ms));
      runtime.process().signal(SIGKILL);
      runtime.process().wait(milliseconds(10000));
      stop = true;
      for (auto& caller : callers) caller.join();
    }
    Runtime again(options, data.path());
    if (!again.started()) throw std::runtime_error("infsh-local did not restart");
    int missing = 0;
    for (const auto& id : answered) {
      if (request(again.port(), "GET", "/tasks/" + id + "/status").status == 404) ++missing;
    }
    std::printf("round %d: %zu creations answered 200, %d of them missing after the restart\n",
                round, answered.size(), missing);
    total_answered += static_cast<int>(answered.size());
    total_missing += missing;
    again.process().signal(SIGTERM);
    again.process().wait(milliseconds(15000));
  }
  std::printf("total: %d of %d answered creations lost\n", total_missing, total_answered);
}

void probe_lock(const Options& options) {
  std::printf("== lock: DATA/lock removed under a running runtime\n");
  TempDir data;
  Runtime first(options, data.path());
  if (!first.started()) throw std::runtime_error("infsh-local did not start");
  const Answer created =
      first.run({{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 60000}}}});
  const std::string id = created.data().at("id");
  first.wait_status(id, 7, milliseconds(5000));
  std::error_code error;
  const bool removed = fs::remove(data.path() / "lock", error);
  Runtime second(options, data.path());
  if (second.started()) {
    std::printf("lock file %s; a second runtime STARTED on the same directory\n",
                removed ? "removed" : "absent");
    std::this_thread::sleep_for(milliseconds(500));
    const auto describe = [](const std::optional<json>& task) {
      if (!task) return std::string("not found");
      std::string text = "status " + std::to_string(task->value("status", 0));
      if (const auto it = task->find("error"); it != task->end() && it->is_string()) {
        text += " (" + it->get<std::string>() + ")";
      }
      return text;
    };
    std::printf("the first runtime shows its running task with %s\n",
                describe(first.task(id)).c_str());
    std::printf("the second runtime shows the same task with %s\n",
                describe(second.task(id)).c_str());
  } else {
    const auto status = second.process().wait(milliseconds(10000));
    std::string said = second.process().output();
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
    std::printf("lock file %s; a second runtime was REFUSED (exit %d): %s\n",
                removed ? "removed" : "absent", status.value_or(-1), said.c_str());
  }
}

struct CreateFigures {
  double median_us = 0;
  double p99_us = 0;
  double per_second = 0;
};

CreateFigures measure_creates(const inf::Client& client, const Options& options) {
  const json body = {{"app", "infsh/echo"}, {"input", {{"n", 1}}}};
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(options.creates));
  for (int i = 0; i < options.creates; ++i) {
    const auto start = Clock::now();
    client.tasks.run(body, {.wait = false});
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(latencies.begin(), latencies.end());
  CreateFigures figures;
  figures.median_us = latencies[latencies.size() / 2];
  figures.p99_us = latencies[latencies.size() * 99 / 100];
  std::atomic<int> next{0};
  std::vector<std::thread> callers;
  const auto start = Clock::now();
  for (int c = 0; c < options.callers; ++c) {
    callers.emplace_back([&] {
      while (next++ < options.creates) client.tasks.run(body, {.wait = false});
    });
  }
  for (auto& caller : callers) caller.join();
  figures.per_second =
      options.creates / std::chrono::duration<double>(Clock::now() - start).count();
  return figures;
}

void probe_creates(const Options& options) {
  std::printf("== creates: %d creations one after another, then %d by %d callers, %d rounds\n",
              options.creates, options.creates, options.callers, options.rounds);
  TempDir data_a;
  TempDir data_b;
  Runtime runtime(options, data_a.path());
  if (!runtime.started()) throw std::runtime_error("infsh-local did not start");
  std::optional<Runtime> against;
  if (!options.against.empty()) {
    Options other = options;
    other.runtime = options.against;
    against.emplace(other, data_b.path());
    if (!against->started()) throw std::runtime_error(options.against + " did not start");
  }
  const auto client_of = [](const Runtime& r) {
    return inf::inference(
        {.api_key = "any", .base_url = "http://127.0.0.1:" + std::to_string(r.port())});
  };
  const inf::Client clients[2] = {client_of(runtime),
                                  against ? client_of(*against) : inf::Client()};
  std::vector<CreateFigures> figures[2];
  for (int round = 1; round <= options.rounds; ++round) {
    const bool runtime_first = round % 2 == 1;
    for (int side : runtime_first ? std::vector<int>{0, 1} : std::vector<int>{1, 0}) {
      if (side == 1 && !against) continue;
      figures[side].push_back(measure_creates(clients[side], options));
      std::printf("round %d %-8s median %7.0f us  p99 %7.0f us  %8.0f creations/s x%d\n", round,
                  side == 0 ? "runtime" : "against", figures[side].back().median_us,
                  figures[side].back().p99_us, figures[side].back().per_second, options.callers);
    }
  }
  const auto median_of = [](const std::vector<CreateFigures>& all, double CreateFigures::*field) {
    std::vector<double> values;
    for (const auto& f : all) values.push_back(f.*field);
    return bench::median(values);
  };
  for (int side = 0; side < (against ? 2 : 1); ++side) {
    std::printf("median   %-8s median %7.0f us  p99 %7.0f us  %8.0f creations/s\n",
                side == 0 ? "runtime" : "against",
                median_of(figures[side], &CreateFigures::median_us),
                median_of(figures[side], &CreateFigures::p99_us),
                median_of(figures[side], &CreateFigures::per_second));
  }
  if (against) {
    std::printf("ratio runtime / against: latency %.2fx, creations/s %.2fx\n",
                median_of(figures[0], &CreateFigures::median_us) /
                    median_of(figures[1], &CreateFigures::median_us),
                median_of(figures[0], &CreateFigures::per_second) /
                    median_of(figures[1], &CreateFigures::per_second));
  }
}

const char* probe_name(const bench::Flags& flags) {
  for (const char* name : {"files", "uploads", "memory", "kill9", "lock", "creates"}) {
    if (flags.is(name)) return name;
  }
  return nullptr;
}

Options parse(int argc, char** argv) {
  Options options;
  for (bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--runtime")) {
      options.runtime = flags.value();
    } else if (flags.is("--tasks")) {
      options.tasks = flags.count();
    } else if (flags.is("--task-mb")) {
      options.task_mb = flags.count();
    } else if (flags.is("--rounds")) {
      options.rounds = flags.count();
    } else if (flags.is("--callers")) {
      options.callers = flags.count();
    } else if (flags.is("--kill-after-ms")) {
      options.kill_after_ms = flags.count();
    } else if (flags.is("--creates")) {
      options.creates = flags.count();
    } else if (flags.is("--against")) {
      options.against = flags.value();
    } else if (flags.is("--")) {
      for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--") {
          for (int j = i + 1; j < argc; ++j) options.extra.emplace_back(argv[j]);
          break;
        }
      }
      break;
    } else if (const char* probe = probe_name(flags)) {
      options.probes.emplace_back(probe);
    } else {
      flags.unknown();
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    Options options = parse(argc, argv);
    if (options.probes.empty()) options.probes = {"files", "uploads", "memory", "kill9", "lock"};
    std::printf("infsh-local: %s\n", options.runtime.c_str());
    for (const auto& probe : options.probes) {
      if (probe == "files") probe_files(options);
      if (probe == "uploads") probe_uploads(options);
      if (probe == "memory") probe_memory(options);
      if (probe == "kill9") probe_kill9(options);
      if (probe == "lock") probe_lock(options);
      if (probe == "creates") probe_creates(options);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_data_probe: %s\n", e.what());
    return 1;
  }
}
