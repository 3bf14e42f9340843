// File transfer through the local runtime: a large file uploaded with the C++ client
// (`client.files.upload(path)`) and downloaded again (`client.files.download(uri, path)`), and
// the same transfers with the curl program (`curl --upload-file` to a fresh upload URL,
// `curl -o` from the file's uri), in alternating rounds against one infsh-local.
//
// Each transfer runs in a process of its own, so its peak memory is its alone: the C++ side is
// this program started again in a client mode, which reports VmHWM from /proc/self/status when
// it is done; curl's peak is the ru_maxrss wait4() returns. Times are wall-clock around each
// process (start-up included on both sides, a few milliseconds).
//
//     transfer_bench [--size-mib N] [--rounds R] [--dir DIR] [--runtime PATH] [--curl PATH]
//
// The test file (N MiB of pseudo-random bytes, 1024 by default) and the runtime's data
// directory are made under DIR (default: the system's temporary directory) and removed at the
// end. Every download is compared with the original byte for byte.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "inferencesh/inferencesh.hpp"
#include "support/random_file.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// ---- client mode: one transfer, then report ---------------------------------------------------

std::uint64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// transfer_bench --client upload|download <base url> <key> <path> [uri]
int client_mode(int argc, char** argv) {
  if (argc < 6) return 2;
  const std::string action = argv[2];
  auto client = inf::inference({.api_key = argv[4], .base_url = argv[3]});
  if (action == "upload") {
    const inf::FileRef file = client.files.upload(fs::path(argv[5]));
    std::printf("{\"id\": \"%s\", \"uri\": \"%s\", \"size\": %llu, \"peak_rss_kib\": %llu}\n",
                file.id.c_str(), file.uri.c_str(), static_cast<unsigned long long>(file.size),
                static_cast<unsigned long long>(peak_rss_kib()));
  } else if (action == "download" && argc >= 7) {
    const auto written = client.files.download(std::string(argv[6]), fs::path(argv[5]));
    std::printf("{\"size\": %llu, \"peak_rss_kib\": %llu}\n",
                static_cast<unsigned long long>(fs::file_size(written)),
                static_cast<unsigned long long>(peak_rss_kib()));
  } else {
    return 2;
  }
  return 0;
}

// ---- running one process ------------------------------------------------------------------------

struct Run {
  double seconds = 0;
  std::uint64_t peak_rss_kib = 0;  // from wait4
  int status = -1;
  std::string output;
};

Run run_process(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe() failed");
  std::vector<char*> args;
  std::vector<std::string> storage = argv;
  for (auto& arg : storage) args.push_back(arg.data());
  args.push_back(nullptr);
  const auto started = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::execvp(args[0], args.data());
    std::perror(args[0]);
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  Run run;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    run.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  run.peak_rss_kib = static_cast<std::uint64_t>(usage.ru_maxrss);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

Run checked(const std::vector<std::string>& argv, const char* what) {
  Run run = run_process(argv);
  if (run.status != 0) {
    throw std::runtime_error(std::string(what) + " failed (status " + std::to_string(run.status) +
                             "): " + run.output);
  }
  return run;
}

// ---- helpers ---------------------------------------------------------------------------------

bool same_bytes(const fs::path& a, const fs::path& b) {
  if (fs::file_size(a) != fs::file_size(b)) return false;
  std::ifstream in_a(a, std::ios::binary);
  std::ifstream in_b(b, std::ios::binary);
  std::vector<char> x(1 << 20);
  std::vector<char> y(1 << 20);
  while (in_a && in_b) {
    in_a.read(x.data(), static_cast<std::streamsize>(x.size()));
    in_b.read(y.data(), static_cast<std::streamsize>(y.size()));
    if (in_a.gcount() != in_b.gcount() ||
        !std::equal(x.begin(), x.begin() + in_a.gcount(), y.begin())) {
      return false;
    }
  }
  return true;
}

std::string json_string(const std::string& text, const std::string& key) {
  const auto at = text.find("\"" + key + "\": \"");
  if (at == std::string::npos) throw std::runtime_error("no " + key + " in: " + text);
  const auto start = at + key.size() + 5;
  return text.substr(start, text.find('"', start) - start);
}

std::uint64_t json_number(const std::string& text, const std::string& key) {
  const auto at = text.find("\"" + key + "\": ");
  if (at == std::string::npos) throw std::runtime_error("no " + key + " in: " + text);
  return std::stoull(text.substr(at + key.size() + 4));
}

using inf::bench::median;

struct Options {
  std::uint64_t size_mib = 1024;
  int rounds = 3;
  fs::path dir = fs::temp_directory_path();
  std::string runtime = INFSH_LOCAL_PROGRAM;
  std::string curl = "curl";
};

Options parse(int argc, char** argv) {
  Options options;
  for (inf::bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--size-mib")) {
      options.size_mib = std::stoull(flags.value());
    } else if (flags.is("--rounds")) {
      options.rounds = flags.count();
    } else if (flags.is("--dir")) {
      options.dir = flags.value();
    } else if (flags.is("--runtime")) {
      options.runtime = flags.value();
    } else if (flags.is("--curl")) {
      options.curl = flags.value();
    } else {
      flags.unknown();
    }
  }
  return options;
}

int bench(const Options& options) {
  std::string pattern = (options.dir / "transfer-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const fs::path work = pattern;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{work};

  const std::uint64_t size = options.size_mib << 20;
  const fs::path original = work / "original.bin";
  std::printf("writing %llu MiB of test data to %s\n",
              static_cast<unsigned long long>(options.size_mib), original.c_str());
  inf::testing::write_random_file(original, size);

  const std::string key = "bench-key";
  inf::testing::Subprocess runtime({options.runtime, "--port", "0", "--api-key", key, "--data-dir",
                                    (work / "data").string(), "--log-level", "warning"});
  const auto url_line = runtime.read_line_containing("http://", std::chrono::seconds(10));
  if (!url_line) throw std::runtime_error("infsh-local printed no URL");
  const std::string url = url_line->substr(url_line->find("http://"));
  auto client = inf::inference({.api_key = key, .base_url = url});
  const std::string self = fs::read_symlink("/proc/self/exe").string();

  std::vector<double> cpp_up, cpp_down, curl_up, curl_down;
  std::uint64_t cpp_up_rss = 0, cpp_down_rss = 0, curl_up_rss = 0, curl_down_rss = 0;
  const double mib = static_cast<double>(options.size_mib);
  for (int round = 1; round <= options.rounds; ++round) {
    // C++ client, each transfer in its own process.
    const Run up = checked({self, "--client", "upload", url, key, original.string()}, "upload");
    const std::string uri = json_string(up.output, "uri");
    const std::string id = json_string(up.output, "id");
    if (json_number(up.output, "size") != size) throw std::runtime_error("upload size differs");
    const fs::path copy = work / "download-cpp.bin";
    const Run down =
        checked({self, "--client", "download", url, key, copy.string(), uri}, "download");
    if (!same_bytes(original, copy)) throw std::runtime_error("C++ download differs");
    cpp_up.push_back(up.seconds);
    cpp_down.push_back(down.seconds);
    cpp_up_rss = std::max(cpp_up_rss, json_number(up.output, "peak_rss_kib"));
    cpp_down_rss = std::max(cpp_down_rss, json_number(down.output, "peak_rss_kib"));
    fs::remove(copy);
    client.files.remove(id);

    // curl: a fresh upload slot (POST /files), PUT with --upload-file, GET with -o.
    const Run slot_run =
        checked({options.curl, "-sS", "--fail", "-H", "Authorization: Bearer " + key, "-H",
                 "Content-Type: application/json", "-d",
                 R"({"files":[{"uri":"","filename":"original.bin"}]})", url + "/files"},
                "POST /files");
    const auto slot = nlohmann::json::parse(slot_run.output).at("data").at(0);
    const std::string upload_url = slot.at("upload_url");
    const std::string slot_uri = slot.at("uri");
    const Run curl_put = checked({options.curl, "-sS", "--fail", "-o", "/dev/null", "--upload-file",
                                  original.string(), upload_url},
                                 "curl --upload-file");
    const fs::path curl_copy = work / "download-curl.bin";
    const Run curl_get =
        checked({options.curl, "-sS", "--fail", "-o", curl_copy.string(), slot_uri}, "curl -o");
    if (!same_bytes(original, curl_copy)) throw std::runtime_error("curl download differs");
    curl_up.push_back(curl_put.seconds);
    curl_down.push_back(curl_get.seconds);
    curl_up_rss = std::max(curl_up_rss, curl_put.peak_rss_kib);
    curl_down_rss = std::max(curl_down_rss, curl_get.peak_rss_kib);
    fs::remove(curl_copy);
    client.files.remove(slot.at("id").get<std::string>());

    std::printf("round %d: upload C++ %.2f s, curl %.2f s | download C++ %.2f s, curl %.2f s\n",
                round, up.seconds, curl_put.seconds, down.seconds, curl_get.seconds);
    std::fflush(stdout);
  }
  runtime.signal(SIGTERM);
  runtime.wait(std::chrono::seconds(10));

  const auto line = [&](const char* what, const std::vector<double>& cpp,
                        const std::vector<double>& curl, std::uint64_t cpp_rss,
                        std::uint64_t curl_rss) {
    const double c = median(cpp);
    const double k = median(curl);
    std::printf(
        "%-9s C++ %7.2f s (%7.1f MiB/s, peak RSS %6.1f MiB) | curl %7.2f s (%7.1f MiB/s, "
        "peak RSS %6.1f MiB) | C++/curl time %.2fx\n",
        what, c, mib / c, static_cast<double>(cpp_rss) / 1024.0, k, mib / k,
        static_cast<double>(curl_rss) / 1024.0, c / k);
  };
  std::printf("\n%llu MiB, %d round(s), medians:\n",
              static_cast<unsigned long long>(options.size_mib), options.rounds);
  line("upload", cpp_up, curl_up, cpp_up_rss, curl_up_rss);
  line("download", cpp_down, curl_down, cpp_down_rss, curl_down_rss);
  const bool within = std::max(cpp_up_rss, cpp_down_rss) < 32 * 1024;
  std::printf("C++ client peak memory %s 32 MiB\n", within ? "under" : "OVER");
  return within ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "--client") == 0) return client_mode(argc, argv);
    return bench(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "transfer_bench: %s\n", e.what());
    return 1;
  }
}
