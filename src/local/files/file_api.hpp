#pragma once

// The file endpoint group:
//   POST   /files                  create upload slots (the bodies of all three official SDKs)
//   GET    /files/{id}             a FileDTO
//   DELETE /files/{id}             the record and its bytes
//   POST   /files/list             a page of FileDTOs, newest first
//   PUT    /_upload/{id}?token=…   the upload URL: the body streamed to disk (no API key)
//   GET    /files/{id}/content?token=…  the file's uri: its bytes (no API key; or the key
//                                  instead of the token)

#include <cstdint>
#include <string>

#include "files/file_store.hpp"
#include "http/base_url.hpp"
#include "http/router.hpp"
#include "support/logger.hpp"
#include "support/serial_executor.hpp"

namespace infsh::local {

struct FileApiSettings {
  std::uint64_t max_file_bytes = 0;
  std::string api_key;  ///< accepted instead of a uri's token; empty: tokens only
};

void register_file_routes(Router& router, FileStore& store, SerialExecutor& io,
                          const BaseUrl& base_url, const Logger& log, FileApiSettings settings);

}  // namespace infsh::local
