#include "support/random_file.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace inferencesh::testing {

void write_random_file(const std::filesystem::path& path, std::uint64_t size, std::uint64_t seed) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::vector<std::uint64_t> block(8192);
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
  while (size > 0) {
    for (auto& word : block) {  // xorshift64*
      state ^= state >> 12U;
      state ^= state << 25U;
      state ^= state >> 27U;
      word = state * 0x2545F4914F6CDD1DULL;
    }
    const auto bytes = std::min<std::uint64_t>(size, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(bytes));
    size -= bytes;
  }
  if (!out) throw std::runtime_error("writing " + path.string() + " failed");
}

}  // namespace inferencesh::testing
