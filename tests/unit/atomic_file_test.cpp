// common::AtomicFile, the one way the SDK writes a file into place: a temporary file beside the
// target, renamed onto it when complete, removed on any failure.

#include <algorithm>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <system_error>
#include <vector>

#include <catch2/catch.hpp>

#include "common/atomic_file.hpp"
#include "support/temp_dir.hpp"

namespace common = inferencesh::common;
namespace fs = std::filesystem;
using inferencesh::testing::read_file;
using inferencesh::testing::TempDir;

namespace {

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("temporary files are named after their target and recognised by that name", "[common]") {
  const fs::path name = common::temporary_path_for("/cache/ab/cat.png");
  CHECK(name.parent_path() == "/cache/ab");
  CHECK(std::regex_match(name.filename().string(), std::regex(R"(cat\.png\.[0-9a-z]{12}\.tmp)")));
  CHECK(common::temporary_path_for("/data/files/file_1", "/data/uploads").parent_path() ==
        "/data/uploads");
  CHECK(common::temporary_path_for("x") != common::temporary_path_for("x"));
  CHECK(common::is_temporary_path(name));
  CHECK_FALSE(common::is_temporary_path("/cache/ab/cat.png"));
  CHECK(common::is_temporary_path("/cache/ab/cat.png.4242.0.tmp"));  // an older SDK's leftover
}

TEST_CASE("an atomic file appears at its target only when committed", "[common]") {
  for (const auto durability : {common::Durability::rename, common::Durability::sync}) {
    TempDir dir;
    const fs::path target = dir.path() / "out.bin";
    common::AtomicFile file(target, durability);
    file.write("hello ");
    file.write(std::string(100000, 'x'));
    CHECK_FALSE(fs::exists(target));
    CHECK(names_in(dir.path()) == std::vector<std::string>{file.temporary_path().filename()});
    CHECK(file.bytes_written() == 100006);
    file.commit();
    CHECK(read_file(target) == "hello " + std::string(100000, 'x'));
    CHECK(names_in(dir.path()) == std::vector<std::string>{"out.bin"});
    CHECK_THROWS_AS(file.commit(), std::system_error);
  }
}

TEST_CASE("an atomic file replaces the target, or leaves it as it was", "[common]") {
  TempDir dir;
  const fs::path target = dir.write("out.txt", "old");
  {
    common::AtomicFile abandoned(target);
    abandoned.write("never seen");
  }
  CHECK(read_file(target) == "old");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"out.txt"});
  common::write_file_atomically(target, "new", common::Durability::sync);
  CHECK(read_file(target) == "new");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"out.txt"});
}

TEST_CASE("a failed commit removes the temporary file and names the target", "[common]") {
  TempDir dir;
  // A non-empty directory cannot be replaced by a file.
  const fs::path target = dir.path() / "occupied";
  dir.write("occupied/inside", "x");
  common::AtomicFile file(target);
  file.write("bytes");
  CHECK_THROWS_WITH(file.commit(), Catch::Contains(target.string()));
  CHECK(names_in(dir.path()) == std::vector<std::string>{"occupied"});
  CHECK_THROWS_WITH(common::AtomicFile(dir.path() / "missing" / "f"),
                    Catch::Contains((dir.path() / "missing").string()));
}

TEST_CASE("an atomic file moves, and a staging directory holds its temporary file", "[common]") {
  TempDir dir;
  fs::create_directories(dir.path() / "files");
  fs::create_directories(dir.path() / "staging");
  std::optional<common::AtomicFile> held;
  {
    common::AtomicFile file(dir.path() / "files" / "f1", common::Durability::sync,
                            dir.path() / "staging");
    file.write("moved");
    held.emplace(std::move(file));
  }  // the moved-from object removes nothing
  CHECK(names_in(dir.path() / "staging").size() == 1);
  held->sync_to_disk();
  held->commit();
  CHECK(read_file(dir.path() / "files" / "f1") == "moved");
  CHECK(fs::is_empty(dir.path() / "staging"));
}
