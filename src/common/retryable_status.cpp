#include "common/retryable_status.hpp"

namespace inferencesh::common {

bool is_retryable_status(int status) noexcept {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

}  // namespace inferencesh::common
