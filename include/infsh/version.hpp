#pragma once

/// Version of the infsh app library (the same as the inferencesh C++ SDK it ships with).
#define INFSH_VERSION_STRING "0.1.0"

namespace infsh {

/// The library version as "major.minor.patch".
inline constexpr const char* kVersion = INFSH_VERSION_STRING;

}  // namespace infsh
