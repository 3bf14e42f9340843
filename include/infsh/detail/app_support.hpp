#pragma once

// What define_app() and Function read from an app class: the parameter and result types of
// its methods, which optional members it has, and the resolution of input Files.

#include <string>
#include <type_traits>
#include <utility>

#include "infsh/context.hpp"
#include "infsh/errors.hpp"
#include "infsh/file.hpp"
#include "infsh/location.hpp"
#include "infsh/model.hpp"

namespace infsh::detail {

// What a member function pointer takes and returns. Generated for const and noexcept forms.
template <class M>
struct method_traits;

// QUALIFIERS is a list of qualifiers, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define INFSH_DETAIL_METHOD_TRAITS(QUALIFIERS)             \
  template <class C, class R>                              \
  struct method_traits<R (C::*)() QUALIFIERS> {            \
    using owner = C;                                       \
    using result = R;                                      \
    using argument = void;                                 \
    static constexpr bool takes_context = false;           \
  };                                                       \
  template <class C, class R>                              \
  struct method_traits<R (C::*)(Context&) QUALIFIERS> {    \
    using owner = C;                                       \
    using result = R;                                      \
    using argument = void;                                 \
    static constexpr bool takes_context = true;            \
  };                                                       \
  template <class C, class R, class A>                     \
  struct method_traits<R (C::*)(A) QUALIFIERS> {           \
    using owner = C;                                       \
    using result = R;                                      \
    using argument = std::decay_t<A>;                      \
    static constexpr bool takes_context = false;           \
  };                                                       \
  template <class C, class R, class A>                     \
  struct method_traits<R (C::*)(A, Context&) QUALIFIERS> { \
    using owner = C;                                       \
    using result = R;                                      \
    using argument = std::decay_t<A>;                      \
    static constexpr bool takes_context = true;            \
  };

INFSH_DETAIL_METHOD_TRAITS()
INFSH_DETAIL_METHOD_TRAITS(const)
INFSH_DETAIL_METHOD_TRAITS(noexcept)
INFSH_DETAIL_METHOD_TRAITS(const noexcept)
#undef INFSH_DETAIL_METHOD_TRAITS
// NOLINTEND(bugprone-macro-parentheses)

/// Resolves the Files of a decoded input or setup (downloads, data URIs, local paths that
/// must exist); throws ValidationError naming each File that could not be resolved.
void resolve_input_file(File& file, const FileResolveOptions& options);

template <class T>
void resolve_input_files(T& value, const std::string& root, const FileResolveOptions& options) {
  Issues issues;
  for_each_file(
      value,
      [&](File& file, const Location& where) {
        try {
          resolve_input_file(file, options);
        } catch (const FileError& e) {
          issues.push_back({where.path(), e.what()});
        }
      },
      Location(root));
  if (!issues.empty()) throw ValidationError(std::move(issues));
}

template <class T, class = void>
struct has_setup : std::false_type {};
template <class T>
struct has_setup<T, std::void_t<decltype(&T::setup)>> : std::true_type {};

template <class T, class = void>
struct has_functions : std::false_type {};
template <class T>
struct has_functions<T, std::void_t<decltype(T::functions())>> : std::true_type {};

template <class T, class = void>
struct has_run : std::false_type {};
template <class T>
struct has_run<T, std::void_t<decltype(&T::run)>> : std::true_type {};

template <class T, class = void>
struct has_app_name : std::false_type {};
template <class T>
struct has_app_name<T, std::void_t<decltype(std::string(T::app_name))>> : std::true_type {};

}  // namespace infsh::detail
