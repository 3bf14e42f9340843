#pragma once

// The exceptions the app library throws. Everything derives from infsh::Error.

#include <stdexcept>
#include <string>
#include <vector>

namespace infsh {

/// Base of every exception the app library throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One broken rule in a value: where (a path such as "input.size.width" or "input.tags[2]") and
/// what rule it broke ("must be >= 16", "field required", "expected integer, got string").
struct ValidationIssue {
  std::string path;
  std::string message;
};

/// A value (an app's input or setup, a JSON document) does not fit its model. what() lists every
/// issue as "path: message", joined with "; ".
///
///     try { auto in = infsh::decode<Input>(json, "input"); }
///     catch (const infsh::ValidationError& e) { e.issues()[0].path; }  // "input.width"
class ValidationError : public Error {
 public:
  explicit ValidationError(std::vector<ValidationIssue> issues);

  /// Every issue found, in document order. Never empty.
  const std::vector<ValidationIssue>& issues() const noexcept { return issues_; }

 private:
  std::vector<ValidationIssue> issues_;
};

/// A File could not be resolved to a local file: an unsupported URI scheme, a download that
/// failed or exceeded its size limit, a malformed data URI, a missing local file.
class FileError : public Error {
 public:
  using Error::Error;
};

/// A run noticed that it was cancelled (Context::throw_if_cancelled()).
class CancelledError : public Error {
 public:
  CancelledError() : Error("cancelled") {}
  using Error::Error;
};

}  // namespace infsh
