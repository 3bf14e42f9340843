// The async client's files and sessions against the local runtime, through real sockets: an
// upload and download round trip, input files of an async run, and a session that keeps its
// instance.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

inf::ClientOptions async_options(const LocalRuntime& local) { return local.client_options(); }

json counter(const std::string& session) {
  return {{"app", "infsh/counter"}, {"input", json::object()}, {"session", session}};
}

}  // namespace

TEST_CASE("async uploads from a path, bytes and a data URI download again byte for byte",
          "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  TempDir dir;
  const auto original = dir.path() / "big.bin";
  constexpr std::uint64_t kSize = 20ULL << 20;
  write_random_file(original, kSize, 11);

  auto from_path = client.files.upload(original);
  auto from_bytes =
      client.files.upload_bytes(std::string("\0\1\2binary\xff", 10), {.filename = "data.bin"});
  auto from_data_uri = client.files.upload("data:image/png;base64,iVBORw0KGgo=");
  const inf::FileRef big = from_path.get();
  const inf::FileRef bytes = from_bytes.get();
  const inf::FileRef png = from_data_uri.get();
  CHECK(big.size == kSize);
  CHECK(png.content_type == "image/png");

  auto big_copy = client.files.download(big, dir.path() / "copy.bin");
  auto into_directory = client.files.download(bytes.uri, dir.path() / "into/");
  auto png_copy = client.files.download(png, dir.path() / "c.png");
  const fs::path copy = big_copy.get();
  CHECK(fs::file_size(copy) == kSize);
  CHECK(same_bytes(original, copy));
  const fs::path named = into_directory.get();
  CHECK(named == dir.path() / "into" / "data.bin");  // from the server's Content-Disposition
  CHECK(read_file(named) == std::string("\0\1\2binary\xff", 10));
  CHECK(read_file(png_copy.get()) == "\x89PNG\r\n\x1a\n");

  CHECK(client.files.get(big.id).get().raw.at("uploaded") == true);
  client.files.remove(bytes.id).get();
  CHECK_THROWS_AS(client.files.get(bytes.id).get(), inf::NotFoundError);
}

TEST_CASE("an async run uploads the files of its input and the app reads them", "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  TempDir dir;
  const auto poem = dir.write("poem.txt", "roses\nviolets\n");
  const json params = {{"app", "infsh/file-info"}, {"input", {{"file", inf::file_path(poem)}}}};
  const inf::Task info = client.tasks.run(params).get();
  CHECK(info.output.at("size") == 14);
  CHECK(info.output.at("filename") == "poem.txt");
  const std::string sent = info.input.at("file");
  CHECK(sent.rfind(local.url() + "/files/", 0) == 0);  // the task got the stored file's uri
  const fs::path reversed =
      client.files.download(info.output.at("reversed").get<std::string>(), dir.path()).get();
  CHECK(read_file(reversed) == "\nsteloiv\nsesor");
}

TEST_CASE("an async session keeps its instance between calls until it is ended", "[async]") {
  LocalRuntime local;
  auto client = inf::async_inference(async_options(local));
  inf::SessionOptions options;
  options.session_timeout = 30;
  inf::AsyncSessionHandle session = client.sessions.open("infsh/counter", options).get();
  const std::string id = session.id();
  CHECK(id.rfind("sess_", 0) == 0);
  CHECK(session.first_result().output == json{{"calls", 1}});
  CHECK(session.call(json::object()).get().output == json{{"calls", 2}});
  CHECK(client.tasks.run(counter(id)).get().output == json{{"calls", 3}});
  CHECK(session.keepalive().get().status == "active");
  const inf::Session info = session.info().get();
  CHECK(info.idle_timeout == 30);
  CHECK(info.call_count == 3);
  const auto sessions = client.sessions.list().get();
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].id == id);

  session.end().get();
  CHECK(client.sessions.get(id).get().status == "ended");
  CHECK_THROWS_AS(client.sessions.keepalive(id).get(), inf::SessionEndedError);
  CHECK_THROWS_AS(client.tasks.run(counter(id)).get(), inf::SessionEndedError);
}
