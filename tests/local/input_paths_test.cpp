// Local paths named by clients never reach apps: a `path` in a File object (or a uri that is a
// path or a file: URI) anywhere in an in-process app's input or setup is refused when the task
// is created, with 400 naming the field, so no app ever opens it (/etc/passwd, a FIFO, /dev/zero).
// App programs: see program_app_test.cpp.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

// A FIFO that never blocks whoever opens it: the test holds it open for reading and writing,
// so even a runtime that let a client's path through could not hang on it.
class Fifo {
 public:
  explicit Fifo(const TempDir& dir) : path_(dir.path() / "fifo") {
    REQUIRE(::mkfifo(path_.c_str(), 0600) == 0);
    fd_ = ::open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fd_ >= 0);
  }
  ~Fifo() { ::close(fd_); }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

RawResponse run_raw(const LocalRuntime& local, const json& body) {
  return http_request(local.port(), "POST", "/apps/run", body.dump());
}

std::string detail_of(const RawResponse& response) {
  const json body = json::parse(response.body, nullptr, false);
  return body.is_object() ? body.value("detail", std::string()) : response.body;
}

}  // namespace

TEST_CASE("a client's local path as an app's input file is refused at creation, naming the field") {
  LocalRuntime local;
  TempDir dir;
  const Fifo fifo(dir);
  for (const std::string& target :
       {std::string("/etc/passwd"), fifo.path(), std::string("/dev/zero")}) {
    INFO(target);
    const auto created =
        run_raw(local, {{"app", "infsh/file-info"}, {"input", {{"file", {{"path", target}}}}}});
    CHECK(created.status == 400);
    CHECK_THAT(detail_of(created), Catch::StartsWith("input.file.path: ") &&
                                       Catch::Contains("cannot name files of the runtime's"));
    CHECK(created.body.find("root:") == std::string::npos);
  }
  // Nothing was queued, so no app ever opened any of them.
  CHECK(local.runtime().stats().tasks == 0);

  // An object with other keys is no File: the runtime passes it on, and file-info will not open
  // its `path` either.
  const auto created = run_raw(
      local, {{"app", "infsh/file-info"},
              {"input", {{"file", {{"path", "/etc/passwd"}, {"filename", "p"}, {"x", 1}}}}}});
  REQUIRE(created.status == 200);
  auto client = local.client();
  const std::string id = created.json().at("data").at("id");
  CHECK_THROWS_WITH(client.tasks.wait_for_completion(id),
                    Catch::Contains("only files stored by this runtime"));
  CHECK(client.tasks.get(id).output.is_null());
}

TEST_CASE("File objects naming local files are refused anywhere in the input and the setup") {
  LocalRuntime local;
  const std::vector<std::pair<json, std::string>> refused = {
      {{{"app", "infsh/echo"},
        {"input", {{"docs", {"a", {{"path", "/etc/passwd"}, {"filename", "p.txt"}}}}}}},
       "input.docs[1].path"},
      {{{"app", "infsh/echo"}, {"input", {{"deep", {{"er", {{"path", "relative/file"}}}}}}}},
       "input.deep.er.path"},
      {{{"app", "infsh/echo"}, {"input", {{"f", {{"uri", "file:///etc/passwd"}}}}}}, "input.f.uri"},
      {{{"app", "infsh/echo"}, {"input", {{"f", {{"uri", "/etc/passwd"}}}}}}, "input.f.uri"},
      {{{"app", "infsh/echo"},
        {"input", {{"f", {{"uri", "https://example.com/x.png"}, {"path", "/etc/passwd"}}}}}},
       "input.f.path"},
      {{{"app", "infsh/setup-counter"},
        {"setup", {{"model", "m"}, {"weights", {{"path", "/etc/passwd"}}}}}},
       "setup.weights.path"},
  };
  for (const auto& [body, field] : refused) {
    INFO(body.dump());
    const auto created = run_raw(local, body);
    CHECK(created.status == 400);
    CHECK_THAT(detail_of(created), Catch::StartsWith(field + ": "));
  }
  CHECK(local.runtime().stats().tasks == 0);

  // What the API may hand over still works, and so does text that merely looks like a path.
  auto client = local.client();
  const auto file = client.files.upload_bytes("abc", {.filename = "abc.txt"});
  const inf::Task echoed =
      client.tasks.run({{"app", "infsh/echo"},
                        {"input",
                         {{"stored", {{"uri", file.uri}, {"filename", "renamed.txt"}}},
                          {"web", {{"uri", "https://example.com/cat.png"}}},
                          {"text", "/etc/passwd"},
                          {"route", {{"path", "/api/v1"}, {"method", "GET"}}}}}});
  CHECK(echoed.output.at("stored") == file.uri);
  CHECK(echoed.output.at("web") == json{{"uri", "https://example.com/cat.png"}});
  CHECK(echoed.output.at("text") == "/etc/passwd");
  CHECK(echoed.output.at("route") == json{{"path", "/api/v1"}, {"method", "GET"}});
  const inf::Task info = client.tasks.run(
      {{"app", "infsh/file-info"}, {"input", {{"file", "data:text/plain;base64,YWJj"}}}});
  CHECK(info.output.at("size") == 3);
}
