#pragma once

/// Version of the inferencesh C++ SDK.
#define INFERENCESH_VERSION_MAJOR 0
#define INFERENCESH_VERSION_MINOR 1
#define INFERENCESH_VERSION_PATCH 0
#define INFERENCESH_VERSION_STRING "0.1.0"

namespace inferencesh {

/// The SDK version as "major.minor.patch", e.g. for a User-Agent.
inline constexpr const char* kVersion = INFERENCESH_VERSION_STRING;

}  // namespace inferencesh
