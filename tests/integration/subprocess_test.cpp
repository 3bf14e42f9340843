// Tests of the test helper that runs child processes (infsh-local, app programs, tools).

#include "support/subprocess.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using inferencesh::testing::Subprocess;

TEST_CASE("a child's whole output is read once wait has seen it exit") {
  // Far more than one read and than a pipe holds: the tail is still in the pipe when the
  // child has exited, and must not be lost.
  Subprocess child({"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo; echo the end"});
  REQUIRE(child.wait(std::chrono::seconds(20)) == 0);
  CHECK(child.output().size() == 300000 + 1 + 8);
  CHECK(child.output().substr(child.output().size() - 8) == "the end\n");
}
