#pragma once

// Large test files with known content, for transfer tests and benchmarks.

#include <cstdint>
#include <filesystem>

namespace inferencesh::testing {

/// Writes `size` pseudo-random bytes (a fixed xorshift64* sequence per `seed`) to `path`, in
/// chunks, so files of any size cost constant memory. Throws std::runtime_error on failure.
void write_random_file(const std::filesystem::path& path, std::uint64_t size,
                       std::uint64_t seed = 0);

}  // namespace inferencesh::testing
