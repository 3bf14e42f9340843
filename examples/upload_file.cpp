// Upload files, pass them to apps, download results.
//
// Python:  file_obj = client.files.upload("/path/to/image.png")
#include <filesystem>
#include <fstream>
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;
namespace fs = std::filesystem;

int main() try {
  auto client = inf::inference();
  const fs::path dir = fs::temp_directory_path() / "inferencesh-tour";
  fs::create_directories(dir);
  const fs::path notes = dir / "notes.txt";
  std::ofstream(notes) << "hello from the C++ SDK\n";

  // Upload from a file path: streamed from disk; the content type comes from the extension.
  inf::FileRef file =
      client.files.upload(notes, {.on_progress = [](std::uint64_t sent, std::uint64_t total) {
                            std::cout << "  uploaded " << sent << " of " << total << " bytes\n";
                          }});
  std::cout << "URI: " << file.uri << " (" << file.content_type << ", " << file.size << " bytes)\n";

  // Upload bytes with explicit options.
  inf::FileRef data = client.files.upload_bytes(
      "raw bytes data", {.filename = "data.bin", .content_type = "application/octet-stream"});
  std::cout << "URI: " << data.uri << " (" << data.filename << ")\n";

  // Files in task input are uploaded automatically: data URIs and values made with file_path().
  inf::Task echoed = client.tasks.run({
      {"app", "infsh/echo"},
      {"input",
       {{"document", inf::file_path(notes)}, {"pixel", "data:image/png;base64,iVBORw0KGgo="}}},
  });
  std::cout << "input files became uris: " << echoed.output.dump() << "\n";

  // Apps read input files from local paths; files they write come back as uris.
  inf::Task info = client.tasks.run({{"app", "infsh/file-info"}, {"input", {{"file", file.uri}}}});
  std::cout << "infsh/file-info: " << info.output["size"] << " bytes, " << info.output["lines"]
            << " line(s); it wrote " << info.output["reversed"].get<std::string>() << "\n";

  // Download a file: streamed to disk under a safe name.
  fs::path saved = client.files.download(file, dir / "downloaded");
  std::ifstream in(saved);
  std::cout << "downloaded to " << saved << ": " << in.rdbuf();
  fs::path reversed =
      client.files.download(info.output["reversed"].get<std::string>(), dir / "reversed");
  std::ifstream reversed_in(reversed);
  std::cout << "and its reversed copy: " << reversed_in.rdbuf() << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
