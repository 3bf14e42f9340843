// An app program for the tests of the app library's command line and worker protocol (and,
// later, of infsh-local hosting app programs). Each function exercises one behaviour:
//
//   run       echoes its input (validated: text 1..20 characters, count 1..10), prints to
//             stdout and stderr (must never corrupt the protocol), may copy an input file
//   slow      `steps` steps of `delay_ms`, with progress, a log line and a partial output each;
//             stops when cancelled unless `ignore_cancel`
//   fail      throws with the given message
//   counter   counts the runs of this instance (state kept between runs of one worker), with
//             the setup's label and the process id
//   crash     writes a line to stderr, then aborts the process (or exits with `exit_status`)
//   inspect_file
//             reports the local path and text of its input file, and returns an upper-case
//             copy as an output file (written in a directory of its own, removed by unload())
//   environment
//             what the process was given: metadata (app id, worker id, session id), its
//             FILE_CACHE_DIR and where its open file descriptors lead
//
// Setup {label, suffix}: "fail" makes setup throw; the text of the optional `suffix` file is
// appended to the label. unload() and on_cancel() write a line to stderr.

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <infsh/infsh.hpp>

namespace test_app {

struct Setup {
  std::string label = "default";
  std::optional<infsh::File> suffix;
};
INFSH_MODEL(Setup, INFSH_FIELD(label).description("A label the counter echoes").with_default(),
            INFSH_FIELD(suffix).description("A file whose text is appended to the label"))

struct EchoInput {
  std::string text;
  int count = 1;
  std::optional<infsh::File> file;
};
INFSH_MODEL(EchoInput, INFSH_FIELD(text).description("Text to echo").min_length(1).max_length(20),
            INFSH_FIELD(count).description("Repetitions").minimum(1).maximum(10).with_default(),
            INFSH_FIELD(file).description("A file to copy into the output"))

struct EchoOutput : infsh::BaseAppOutput {
  std::string text;
  std::optional<infsh::File> file;
};
INFSH_MODEL(EchoOutput, INFSH_FIELD(text).description("The echoed text"),
            INFSH_FIELD(file).description("A copy of the input file"))

struct SlowInput {
  int steps = 3;
  int delay_ms = 10;
  bool ignore_cancel = false;
};
INFSH_MODEL(SlowInput, INFSH_FIELD(steps).minimum(0).maximum(100000).with_default(),
            INFSH_FIELD(delay_ms).minimum(0).maximum(60000).with_default(),
            INFSH_FIELD(ignore_cancel).with_default())

struct SlowOutput : infsh::BaseAppOutput {
  int done = 0;
};
INFSH_MODEL(SlowOutput, INFSH_FIELD(done).description("Steps done"))

struct FailInput {
  std::string message = "the app failed on purpose";
};
INFSH_MODEL(FailInput, INFSH_FIELD(message).with_default())

struct Empty {};
INFSH_MODEL(Empty)

struct CounterOutput : infsh::BaseAppOutput {
  int count = 0;
  std::string label;
  int pid = 0;
};
INFSH_MODEL(CounterOutput, INFSH_FIELD(count), INFSH_FIELD(label), INFSH_FIELD(pid))

struct CrashInput {
  int exit_status = -1;
};
INFSH_MODEL(CrashInput,
            INFSH_FIELD(exit_status).description("-1: abort; else exit with it").with_default())

struct InspectInput {
  infsh::File file;
};
INFSH_MODEL(InspectInput, INFSH_FIELD(file).description("A text file"))

struct InspectOutput : infsh::BaseAppOutput {
  std::string path;
  std::string text;
  infsh::File upper;
};
INFSH_MODEL(InspectOutput, INFSH_FIELD(path).description("Where the app found the file"),
            INFSH_FIELD(text).description("What it holds"),
            INFSH_FIELD(upper).description("An upper-case copy"))

struct EnvironmentOutput : infsh::BaseAppOutput {
  std::string app_id;
  std::string worker_id;
  std::string session_id;
  std::string file_cache_dir;
  std::vector<std::string> open_files;
};
INFSH_MODEL(EnvironmentOutput, INFSH_FIELD(app_id), INFSH_FIELD(worker_id), INFSH_FIELD(session_id),
            INFSH_FIELD(file_cache_dir),
            INFSH_FIELD(open_files).description("Targets of /proc/self/fd/*"))

class TestApp : public infsh::BaseApp {
 public:
  static constexpr const char* app_name = "tests/test-app";

  static infsh::Functions<TestApp> functions() {
    return {{"run", &TestApp::run, "Echoes its input"},
            {"slow", &TestApp::slow, "Takes its time"},
            {"fail", &TestApp::fail, "Always fails"},
            {"counter", &TestApp::counter, "Counts runs of this instance"},
            {"crash", &TestApp::crash, "Aborts the process"},
            {"inspect_file", &TestApp::inspect_file, "Reads a file and writes another"},
            {"environment", &TestApp::environment, "What the process was given"}};
  }

  void setup(const Setup& setup, infsh::Context& context) {
    if (setup.label == "fail") throw std::runtime_error("setup refused the label 'fail'");
    label_ = setup.label;
    if (setup.suffix) {
      std::ifstream in(setup.suffix->path, std::ios::binary);
      label_.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    context.log("set up with label " + label_);
  }

  EchoOutput run(const EchoInput& input, infsh::Context& context) {
    std::cout << "app stdout line" << std::endl;
    std::printf("app printf line\n");
    std::fflush(stdout);
    std::cerr << "app stderr line" << std::endl;
    EchoOutput output;
    for (int i = 0; i < input.count; ++i) output.text += input.text;
    if (input.file) {
      const auto copy = std::filesystem::temp_directory_path() /
                        ("infsh-test-app-" + std::to_string(::getpid()) + "-" +
                         (context.task_id().empty() ? std::string("run") : context.task_id()) +
                         "-" + input.file->filename);
      std::filesystem::copy_file(input.file->path, copy,
                                 std::filesystem::copy_options::overwrite_existing);
      output.file = infsh::File{.path = copy.string()};
    }
    output.output_meta = infsh::OutputMeta{
        .inputs = {infsh::TextMeta{.tokens = static_cast<std::int64_t>(input.text.size())}},
        .outputs = {infsh::TextMeta{.tokens = static_cast<std::int64_t>(output.text.size())}}};
    return output;
  }

  SlowOutput slow(const SlowInput& input, infsh::Context& context) {
    SlowOutput output;
    for (int step = 0; step < input.steps; ++step) {
      context.progress(step, input.steps, "step " + std::to_string(step));
      context.log("step " + std::to_string(step));
      output.done = step;
      context.partial(output);
      const bool waited = context.wait_for(std::chrono::milliseconds(input.delay_ms));
      if (!waited && !input.ignore_cancel) return output;
      if (!waited) {
        // Ignoring the cancel: keep going, at full delay (wait_for returns at once now).
        std::this_thread::sleep_for(std::chrono::milliseconds(input.delay_ms));
      }
    }
    output.done = input.steps;
    return output;
  }

  SlowOutput fail(const FailInput& input) { throw std::runtime_error(input.message); }

  CounterOutput counter(const Empty&) {
    CounterOutput output;
    output.count = ++runs_;
    output.label = label_;
    output.pid = static_cast<int>(::getpid());
    return output;
  }

  SlowOutput crash(const CrashInput& input) {
    std::cerr << "about to crash" << std::endl;
    if (input.exit_status >= 0) std::_Exit(input.exit_status);
    std::abort();
  }

  InspectOutput inspect_file(const InspectInput& input) {
    std::ifstream in(input.file.path, std::ios::binary);
    InspectOutput output;
    output.path = input.file.path;
    output.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::string upper = output.text;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    const auto path = scratch() / ("upper-" + input.file.filename);
    std::ofstream(path, std::ios::binary) << upper;
    output.upper = infsh::File{.path = path.string(), .content_type = "text/plain"};
    return output;
  }

  EnvironmentOutput environment(const Empty&, infsh::Context& context) {
    EnvironmentOutput output;
    const infsh::Metadata& metadata = context.metadata();
    output.app_id = metadata.app_id;
    output.worker_id = metadata.worker_id;
    output.session_id = metadata.extra.value("session_id", "");
    const char* cache = std::getenv("FILE_CACHE_DIR");
    output.file_cache_dir = cache != nullptr ? cache : "";
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
      output.open_files.push_back(std::filesystem::read_symlink(entry.path(), error).string());
    }
    return output;
  }

  void on_cancel() override { std::cerr << "on_cancel called" << std::endl; }
  void unload() override {
    std::cerr << "unload called (label " << label_ << ")" << std::endl;
    if (!scratch_.empty()) std::filesystem::remove_all(scratch_);
  }

 private:
  const std::filesystem::path& scratch() {
    if (scratch_.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "infsh-test-app-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
      scratch_ = pattern;
    }
    return scratch_;
  }

  std::string label_;
  int runs_ = 0;
  std::filesystem::path scratch_;
};

}  // namespace test_app

INFSH_MAIN(test_app::TestApp)
