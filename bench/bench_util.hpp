#pragma once

// What the benchmark programs share: medians and reading `--flag value` command lines.

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace inferencesh::bench {

inline double median(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("median of no values");
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// Walks argv flag by flag:
///
///   for (Flags flags(argc, argv); flags.next();) {
///     if (flags.is("--rounds")) rounds = flags.count(); else flags.unknown();
///   }
class Flags {
 public:
  Flags(int argc, char** argv) : argc_(argc), argv_(argv) {}

  /// Moves to the next flag; false at the end.
  bool next() {
    if (++index_ >= argc_) return false;
    flag_ = argv_[index_];
    return true;
  }
  bool is(const char* name) const { return flag_ == name; }
  /// The value after the current flag.
  std::string value() {
    if (index_ + 1 >= argc_) throw std::invalid_argument(flag_ + " needs a value");
    return argv_[++index_];
  }
  /// The value as a count (at least 1).
  int count() {
    const int n = std::stoi(value());
    if (n < 1) throw std::invalid_argument(flag_ + " must be at least 1");
    return n;
  }
  [[noreturn]] void unknown() const { throw std::invalid_argument("unknown option " + flag_); }

 private:
  int argc_;
  char** argv_;
  int index_ = 0;
  std::string flag_;
};

}  // namespace inferencesh::bench
