#include "attachments.hpp"

#include "agent_operations.hpp"
#include "file_transfer.hpp"

namespace inferencesh {

// ---- Attachment ----------------------------------------------------------------------------

Attachment::Attachment(FileRef file) : kind_(Kind::file_ref), file_(std::move(file)) {}
Attachment::Attachment(std::filesystem::path path) : kind_(Kind::path), path_(std::move(path)) {}
Attachment::Attachment(std::string source) : data_(std::move(source)) {}

Attachment Attachment::bytes(std::string data, std::string filename, std::string content_type) {
  Attachment attachment;
  attachment.kind_ = Kind::bytes;
  attachment.data_ = std::move(data);
  attachment.filename_ = std::move(filename);
  attachment.content_type_ = std::move(content_type);
  return attachment;
}

namespace detail {

struct AttachmentAccess {
  static FileRef upload(const ClientCore& core, const Attachment& file,
                        const CancellationToken& cancel) {
    UploadFileOptions upload;
    upload.cancel = cancel;
    switch (file.kind_) {
      case Attachment::Kind::file_ref:
        return file.file_;
      case Attachment::Kind::path:
        return upload_file(core, source_from_path(file.path_), upload);
      case Attachment::Kind::source:
        return upload_file(core, source_from_string(file.data_), upload);
      case Attachment::Kind::bytes:
        upload.filename = file.filename_;
        upload.content_type = file.content_type_;
        return upload_file(core, source_from_bytes(file.data_), upload);
    }
    return file.file_;
  }
};

nlohmann::json upload_attachments(const ClientCore& core, const std::vector<Attachment>& files,
                                  const CancellationToken& cancel) {
  nlohmann::json attachments = nlohmann::json::array();
  for (const auto& file : files) {
    attachments.push_back(file_ref_json(AttachmentAccess::upload(core, file, cancel)));
  }
  return attachments;
}

}  // namespace detail
}  // namespace inferencesh
