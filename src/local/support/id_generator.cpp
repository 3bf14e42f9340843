#include "support/id_generator.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <random>
#include <stdexcept>
#include <string_view>

namespace infsh::local {

std::string new_id(std::string_view prefix) {
  static constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 engine{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string id(prefix);
  id += '_';
  for (int i = 0; i < 20; ++i) id += alphabet[pick(engine)];
  return id;
}

std::string new_secret() {
  std::array<unsigned char, 16> bytes{};
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const auto n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("the system's random source failed");
    }
    filled += static_cast<std::size_t>(n);
  }
  constexpr std::string_view digits = "0123456789abcdef";
  std::string token;
  token.reserve(2 * bytes.size());
  for (const unsigned char byte : bytes) {
    token += digits[byte >> 4U];
    token += digits[byte & 0xfU];
  }
  return token;
}

}  // namespace infsh::local
