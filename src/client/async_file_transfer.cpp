#include "async_file_transfer.hpp"

#include <optional>
#include <utility>

#include "async_operations.hpp"
#include "file_operations.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

class AsyncUpload : public std::enable_shared_from_this<AsyncUpload> {
 public:
  AsyncUpload(std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core,
              std::shared_ptr<const UploadSource> source, UploadFileOptions options,
              UploadDone done)
      : loop_(std::move(loop)),
        core_(std::move(core)),
        source_(std::move(source)),
        options_(std::move(options)),
        done_(std::move(done)) {}

  void start() {
    ApiCall call;
    try {
      metadata_ = upload_metadata(*source_, options_);
      call = create_file_call(metadata_);
    } catch (...) {
      finish(std::current_exception(), {});
      return;
    }
    async_call(
        loop_, core_, call, options_.cancel,
        [self = shared_from_this()](const std::exception_ptr& error, const ApiResult& result) {
          if (error) {
            self->finish(error, {});
            return;
          }
          try {
            self->created_ = created_file(result.data);
          } catch (...) {
            self->finish(std::current_exception(), {});
            return;
          }
          self->put();
        });
  }

 private:
  void put() {
    HttpRequest request;
    try {
      request = upload_request(core_->options(), source_, created_.upload_url,
                               metadata_.content_type, options_.on_progress);
    } catch (...) {
      finish(std::current_exception(), {});
      return;
    }
    loop_->send(
        std::move(request), options_.cancel,
        [self = shared_from_this()](const std::exception_ptr& error, const HttpResponse& response) {
          self->judge(error, response);
        });
  }

  void judge(const std::exception_ptr& error, const HttpResponse& response) {
    UploadAttemptOutcome outcome;
    try {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const ConnectionError&) {
          // Timeouts too: judged as the blocking upload judges them; anything else is final.
          outcome = judge_upload_attempt(*core_, created_.upload_url, retry_, nullptr, error);
        }
      } else {
        outcome = judge_upload_attempt(*core_, created_.upload_url, retry_, &response, nullptr);
      }
    } catch (...) {
      finish(std::current_exception(), {});
      return;
    }
    if (outcome.stored) {
      finish(nullptr, uploaded_file(std::move(created_), metadata_));
      return;
    }
    ++retry_;
    async_sleep(loop_, outcome.retry_in, options_.cancel,
                [self = shared_from_this()](const std::exception_ptr& cancelled) {
                  if (cancelled) {
                    self->finish(cancelled, {});
                  } else {
                    self->put();
                  }
                });
  }

  void finish(std::exception_ptr error, FileRef file) {
    UploadDone done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(error), std::move(file));
  }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  std::shared_ptr<const UploadSource> source_;
  UploadFileOptions options_;
  UploadDone done_;
  UploadMetadata metadata_;
  CreatedFile created_;
  int retry_ = 0;
};

class AsyncDownload : public std::enable_shared_from_this<AsyncDownload> {
 public:
  AsyncDownload(std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core,
                std::shared_ptr<const DownloadRequest> request, CancellationToken cancel,
                DownloadDone done)
      : loop_(std::move(loop)),
        core_(std::move(core)),
        request_(std::move(request)),
        cancel_(std::move(cancel)),
        done_(std::move(done)) {}

  /// A new attempt: the URL asked for, with a fresh file.
  void attempt() {
    if (!done_) return;
    try {
      attempt_.emplace(*request_);
    } catch (...) {
      finish(std::current_exception(), {});
      return;
    }
    open();
  }

 private:
  /// The GET of the attempt's current URL. Each transfer has its own number: what arrives for
  /// one the download has left (a redirect's, after it moved on) is ignored.
  void open() {
    const std::uint64_t number = ++transfer_number_;
    HttpRequest request;
    try {
      request = attempt_->request();
    } catch (...) {
      failed(std::current_exception());
      return;
    }
    auto self = shared_from_this();
    AsyncLoop::StreamHandler handler;
    handler.on_headers = [self, number](int status, const Headers& headers) {
      if (number == self->transfer_number_) self->on_headers(status, headers);
    };
    handler.on_data = [self, number](std::string_view bytes) {
      if (number == self->transfer_number_) self->on_data(bytes);
    };
    handler.on_end = [self, number](std::exception_ptr error) {
      if (number == self->transfer_number_) self->on_end(std::move(error));
    };
    transfer_ = loop_->open(std::move(request), cancel_, std::move(handler));
  }

  // Runs inside libcurl's callbacks (or as the transfer completes): an exception (a file that
  // may not be written, too many redirects) ends the transfer, and reaches on_end().
  void on_headers(int status, const Headers& headers) {
    head_ = attempt_->on_head(status, headers);
    if (head_ == DownloadAttempt::Head::redirect) {
      leave_transfer();
      loop_->post([self = shared_from_this()] {
        if (self->done_) self->open();
      });
    }
  }

  void on_data(std::string_view bytes) {
    if (head_ == DownloadAttempt::Head::body) {
      attempt_->write(bytes);
      return;
    }
    attempt_->append_error_body(bytes);
    if (attempt_->error_body_room() == 0) {
      // Enough of an error answer for its ApiError: the rest is not read.
      leave_transfer();
      failed_with_status();
    }
  }

  void on_end(std::exception_ptr error) {
    transfer_ = 0;
    if (error) {
      failed(attempt_->reworded(std::move(error)));
      return;
    }
    if (head_ == DownloadAttempt::Head::error) {
      failed_with_status();
      return;
    }
    std::filesystem::path path;
    try {
      path = attempt_->finish();
    } catch (...) {
      failed(std::current_exception());
      return;
    }
    finish(nullptr, std::move(path));
  }

  void failed_with_status() {
    try {
      attempt_->fail();
    } catch (...) {
      failed(std::current_exception());
    }
  }

  /// The attempt failed: its file is removed, then the retry rule decides.
  void failed(const std::exception_ptr& error) {
    attempt_.reset();
    std::chrono::milliseconds delay{0};
    try {
      delay = download_retry_delay(*request_, retry_, error);
    } catch (...) {
      finish(std::current_exception(), {});
      return;
    }
    ++retry_;
    async_sleep(loop_, delay, cancel_,
                [self = shared_from_this()](const std::exception_ptr& cancelled) {
                  if (cancelled) {
                    self->finish(cancelled, {});
                  } else {
                    self->attempt();
                  }
                });
  }

  /// Stops listening to the current transfer (closing it, if it is still open).
  void leave_transfer() {
    ++transfer_number_;
    if (transfer_ != 0) loop_->close(transfer_);
    transfer_ = 0;
  }

  void finish(std::exception_ptr error, std::filesystem::path path) {
    if (!done_) return;
    leave_transfer();
    attempt_.reset();  // no file left behind, before anyone hears of the outcome
    // Handed to the loop's queue: the caller's continuations never run inside libcurl.
    loop_->post([done = std::move(done_), error = std::move(error),
                 path = std::move(path)]() mutable { done(std::move(error), std::move(path)); });
    done_ = nullptr;
  }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  std::shared_ptr<const DownloadRequest> request_;
  CancellationToken cancel_;
  DownloadDone done_;
  std::optional<DownloadAttempt> attempt_;
  DownloadAttempt::Head head_ = DownloadAttempt::Head::error;
  std::uint64_t transfer_ = 0;
  std::uint64_t transfer_number_ = 0;
  int retry_ = 0;
};

/// The uploads of one task's input, a few at a time.
class AsyncInputUploads : public std::enable_shared_from_this<AsyncInputUploads> {
 public:
  AsyncInputUploads(std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core,
                    std::vector<InputFile> files, CancellationToken cancel,
                    std::function<void(std::exception_ptr)> done)
      : loop_(std::move(loop)),
        core_(std::move(core)),
        files_(std::move(files)),
        cancel_(std::move(cancel)),
        done_(std::move(done)) {}

  void start() {
    while (running_ < kParallelInputUploads && next_ < files_.size() && !failure_) {
      InputFile& file = files_[next_++];
      file.options.cancel = cancel_;
      ++running_;
      upload_file_async(
          loop_, core_, file.source, file.options,
          [self = shared_from_this(), &file](std::exception_ptr error, const FileRef& ref) {
            self->ended(file, std::move(error), ref);
          });
    }
    if (running_ == 0 && done_) {
      auto done = std::move(done_);
      done_ = nullptr;
      done(failure_);
    }
  }

 private:
  void ended(InputFile& file, std::exception_ptr error, const FileRef& ref) {
    --running_;
    if (error) {
      if (!failure_) failure_ = std::move(error);
    } else {
      *file.slot = ref.uri;
    }
    start();
  }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  std::vector<InputFile> files_;  // not resized once started: the callbacks hold references
  CancellationToken cancel_;
  std::function<void(std::exception_ptr)> done_;
  std::size_t next_ = 0;
  std::size_t running_ = 0;
  std::exception_ptr failure_;
};

}  // namespace

void upload_input_files_async(const std::shared_ptr<AsyncLoop>& loop,
                              const std::shared_ptr<const ClientCore>& core,
                              std::vector<InputFile> files, const CancellationToken& cancel,
                              std::function<void(std::exception_ptr error)> done) {
  std::make_shared<AsyncInputUploads>(loop, core, std::move(files), cancel, std::move(done))
      ->start();
}

void upload_file_async(const std::shared_ptr<AsyncLoop>& loop,
                       const std::shared_ptr<const ClientCore>& core,
                       std::shared_ptr<const UploadSource> source, UploadFileOptions options,
                       UploadDone done) {
  std::make_shared<AsyncUpload>(loop, core, std::move(source), std::move(options), std::move(done))
      ->start();
}

void download_file_async(const std::shared_ptr<AsyncLoop>& loop,
                         const std::shared_ptr<const ClientCore>& core,
                         std::shared_ptr<const DownloadRequest> request, CancellationToken cancel,
                         DownloadDone done) {
  std::make_shared<AsyncDownload>(loop, core, std::move(request), std::move(cancel),
                                  std::move(done))
      ->attempt();
}

}  // namespace inferencesh::detail
