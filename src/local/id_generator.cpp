#include "id_generator.hpp"

#include <random>

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

}  // namespace infsh::local
