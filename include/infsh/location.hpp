#pragma once

// Where a value sits in a document, and the issues decoding found there.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "infsh/errors.hpp"

namespace infsh {

/// Where a value sits in a document, both for messages ("input.size.width", "input.tags[2]")
/// and as a JSON pointer ("/size/width", "/tags/2").
class Location {
 public:
  Location() = default;
  /// A root named `name` ("input"); its pointer is "".
  explicit Location(std::string name) : path_(std::move(name)) {}

  /// The member `key` of this location.
  Location child(std::string_view key) const;
  /// The element `index` of this location.
  Location index(std::size_t index) const;

  /// "input.size.width"
  const std::string& path() const noexcept { return path_; }
  /// "/size/width"
  const std::string& pointer() const noexcept { return pointer_; }

 private:
  std::string path_;
  std::string pointer_;
};

/// Issues found while decoding, in document order.
using Issues = std::vector<ValidationIssue>;

}  // namespace infsh
