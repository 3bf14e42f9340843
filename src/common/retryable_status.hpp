#pragma once

// Which HTTP answers are worth another attempt: the one rule for every request the SDK repeats
// (API calls, upload PUTs, downloads of the client and of File).

namespace inferencesh::common {

/// 408, 429, 500, 502, 503, 504: the server timed out, is overloaded or failed for now. Other
/// statuses (501 and 505 included) give the same answer again.
bool is_retryable_status(int status) noexcept;

}  // namespace inferencesh::common
