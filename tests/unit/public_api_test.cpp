// The public API's shape: what users can and cannot do with the client's types.

#include <memory>
#include <type_traits>

#include <catch2/catch.hpp>

#include "inferencesh/client.hpp"
#include "inferencesh/task_stream.hpp"

namespace inf = inferencesh;

namespace {

using Core = std::shared_ptr<inf::detail::ClientCore>;
using Follower = std::unique_ptr<inf::detail::TaskFollower>;

}  // namespace

TEST_CASE("client resources come from a Client and cannot be built from internal types") {
  // Built from the library's internals, these would tie user code to types that are not part
  // of the contract; a Client makes them.
  CHECK_FALSE(std::is_constructible_v<inf::Tasks, Core>);
  CHECK_FALSE(std::is_constructible_v<inf::Files, Core>);
  CHECK_FALSE(std::is_constructible_v<inf::Sessions, Core>);
  CHECK_FALSE(std::is_constructible_v<inf::TaskStream, Follower>);
  // What users do with them stays possible: copy the resources, move a stream.
  CHECK(std::is_copy_constructible_v<inf::Tasks>);
  CHECK(std::is_move_constructible_v<inf::TaskStream>);
  CHECK(std::is_constructible_v<inf::Client, inf::ClientOptions>);
}
