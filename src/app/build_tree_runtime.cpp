// Linked into the programs built in the SDK's own build tree (examples, test apps) and nowhere
// else: their `serve` then finds the infsh-local built beside them. The path is the build
// tree's, so it must not reach the installed library.

#include "infsh_local_locator.hpp"

namespace {

[[maybe_unused]] const bool registered = []() noexcept {
  infsh::detail::set_build_tree_infsh_local(INFSH_BUILD_TREE_LOCAL);
  return true;
}();

}  // namespace
