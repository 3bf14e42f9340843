// AsyncFiles: the calls of Files on the async loop.

#include <utility>

#include "async_core.hpp"
#include "async_file_transfer.hpp"
#include "async_operations.hpp"
#include "file_operations.hpp"
#include "file_transfer.hpp"
#include "inferencesh/async_client.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh {
namespace {

/// Uploads on the loop the source `make_source` gives; it runs on the calling thread, so an
/// invalid source fails the future before any request.
template <typename MakeSource>
future<FileRef> upload_on_loop(const std::shared_ptr<detail::AsyncCore>& core,
                               MakeSource make_source, const UploadFileOptions& options) {
  std::shared_ptr<const detail::UploadSource> source;
  try {
    source = std::make_shared<const detail::UploadSource>(make_source());
  } catch (...) {
    return make_exceptional_future<FileRef>(std::current_exception());
  }
  promise<FileRef> result;
  auto future = result.get_future();
  const auto& loop = core->loop();
  loop->post([loop, client = core->client(), source = std::move(source), options, result] {
    detail::upload_file_async(loop, client, source, options, detail::settle_on_loop(loop, result));
  });
  return future;
}

future<std::filesystem::path> download_on_loop(const std::shared_ptr<detail::AsyncCore>& core,
                                               const std::string& uri, const std::string& name_hint,
                                               const std::filesystem::path& destination,
                                               const DownloadOptions& options) {
  std::shared_ptr<const detail::DownloadRequest> request;
  try {
    request = std::make_shared<const detail::DownloadRequest>(
        detail::file_download_request(*core->client(), uri, name_hint, destination, options));
  } catch (...) {
    return make_exceptional_future<std::filesystem::path>(std::current_exception());
  }
  promise<std::filesystem::path> result;
  auto future = result.get_future();
  const auto& loop = core->loop();
  loop->post([loop, client = core->client(), request = std::move(request), cancel = options.cancel,
              result] {
    detail::download_file_async(loop, client, request, cancel,
                                detail::settle_on_loop(loop, result));
  });
  return future;
}

}  // namespace

future<FileRef> AsyncFiles::upload(const std::string& source,
                                   const UploadFileOptions& options) const {
  return upload_on_loop(
      core_, [&source] { return detail::source_from_string(source); }, options);
}

future<FileRef> AsyncFiles::upload(const std::string& source) const {
  return upload(source, UploadFileOptions{});
}

future<FileRef> AsyncFiles::upload(const char* source, const UploadFileOptions& options) const {
  return upload(std::string(source), options);
}

future<FileRef> AsyncFiles::upload(const char* source) const {
  return upload(std::string(source), UploadFileOptions{});
}

future<FileRef> AsyncFiles::upload(const std::filesystem::path& path,
                                   const UploadFileOptions& options) const {
  return upload_on_loop(
      core_, [&path] { return detail::source_from_path(path); }, options);
}

future<FileRef> AsyncFiles::upload(const std::filesystem::path& path) const {
  return upload(path, UploadFileOptions{});
}

future<FileRef> AsyncFiles::upload(const std::vector<std::uint8_t>& bytes,
                                   const UploadFileOptions& options) const {
  return upload_on_loop(
      core_,
      [&bytes] { return detail::source_from_bytes(std::string(bytes.begin(), bytes.end())); },
      options);
}

future<FileRef> AsyncFiles::upload(const std::vector<std::uint8_t>& bytes) const {
  return upload(bytes, UploadFileOptions{});
}

future<FileRef> AsyncFiles::upload_bytes(std::string_view bytes,
                                         const UploadFileOptions& options) const {
  return upload_on_loop(
      core_, [bytes] { return detail::source_from_bytes(std::string(bytes)); }, options);
}

future<FileRef> AsyncFiles::upload_bytes(std::string_view bytes) const {
  return upload_bytes(bytes, UploadFileOptions{});
}

future<std::filesystem::path> AsyncFiles::download(const std::string& uri,
                                                   const std::filesystem::path& destination,
                                                   const DownloadOptions& options) const {
  return download_on_loop(core_, uri, {}, destination, options);
}

future<std::filesystem::path> AsyncFiles::download(const std::string& uri,
                                                   const std::filesystem::path& destination) const {
  return download(uri, destination, DownloadOptions{});
}

future<std::filesystem::path> AsyncFiles::download(const FileRef& file,
                                                   const std::filesystem::path& destination,
                                                   const DownloadOptions& options) const {
  if (file.uri.empty()) {
    return make_exceptional_future<std::filesystem::path>(
        std::make_exception_ptr(InvalidArgumentError("files.download: the file has no uri")));
  }
  return download_on_loop(core_, file.uri, file.filename, destination, options);
}

future<std::filesystem::path> AsyncFiles::download(const FileRef& file,
                                                   const std::filesystem::path& destination) const {
  return download(file, destination, DownloadOptions{});
}

future<FileRef> AsyncFiles::get(const std::string& file_id) const {
  try {
    return detail::call_on_loop<FileRef>(core_, detail::get_file_call(file_id), {},
                                         [file_id](const detail::ApiResult& payload) {
                                           return detail::file_from_payload(payload.data, file_id);
                                         });
  } catch (...) {
    return make_exceptional_future<FileRef>(std::current_exception());
  }
}

future<void> AsyncFiles::remove(const std::string& file_id) const {
  try {
    return detail::call_on_loop<void>(core_, detail::delete_file_call(file_id), {},
                                      [](const detail::ApiResult&) {});
  } catch (...) {
    return make_exceptional_future<void>(std::current_exception());
  }
}

}  // namespace inferencesh
