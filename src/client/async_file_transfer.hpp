#pragma once

// File transfers on the async loop, with the blocking client's rules: POST /files and the PUT of
// the content (upload_metadata, upload_request, judge_upload_attempt), a download's redirects,
// key rule, file and retries (DownloadAttempt, download_retry_delay). Loop thread only; `done`
// runs once, on the loop thread, never inside a libcurl callback.

#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "async_loop.hpp"
#include "client_core.hpp"
#include "download.hpp"
#include "file_transfer.hpp"
#include "inferencesh/files.hpp"
#include "input_files.hpp"

namespace inferencesh::detail {

using UploadDone = std::function<void(std::exception_ptr error, FileRef file)>;
using DownloadDone = std::function<void(std::exception_ptr error, std::filesystem::path path)>;

/// Uploads `source` as upload_file() does: the file's content is read from disk in pieces as
/// the PUT sends it.
void upload_file_async(const std::shared_ptr<AsyncLoop>& loop,
                       const std::shared_ptr<const ClientCore>& core,
                       std::shared_ptr<const UploadSource> source, UploadFileOptions options,
                       UploadDone done);

/// Downloads as download() does; the body goes to disk as it arrives. A failure, a cancel or
/// the loop's shutdown removes the file being written before `done` runs. `core` is kept for
/// what `request` refers to (its log).
void download_file_async(const std::shared_ptr<AsyncLoop>& loop,
                         const std::shared_ptr<const ClientCore>& core,
                         std::shared_ptr<const DownloadRequest> request, CancellationToken cancel,
                         DownloadDone done);

/// Uploads the files collect_input_files() found, kParallelInputUploads at a time, and puts
/// each uri in its slot. `done` runs once every upload started has ended: with nullptr, or with
/// the first failure (no upload starts after one).
void upload_input_files_async(const std::shared_ptr<AsyncLoop>& loop,
                              const std::shared_ptr<const ClientCore>& core,
                              std::vector<InputFile> files, const CancellationToken& cancel,
                              std::function<void(std::exception_ptr error)> done);

}  // namespace inferencesh::detail
