#pragma once

#include <string>
#include <string_view>

namespace infsh::local {

/// A fresh random id with a readable prefix, e.g. "task_k3v9q0x2m7b1c8d4f6h5": 20 characters of
/// [0-9a-z] (about 103 bits). Thread-safe.
std::string new_id(std::string_view prefix);

/// An unguessable token from the operating system's random source (getrandom): 32 hex digits,
/// 128 bits. For URLs that grant access without the API key (upload and file URLs). Thread-safe.
std::string new_secret();

}  // namespace infsh::local
