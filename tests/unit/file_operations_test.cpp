#include <catch2/catch.hpp>

#include "common/media_types.hpp"
#include "file_operations.hpp"
#include "inferencesh/errors.hpp"

namespace inf = inferencesh;
namespace detail = inferencesh::detail;
using nlohmann::json;

TEST_CASE("content types come from the option, the data URI, then the extension", "[files]") {
  CHECK(detail::choose_content_type("image/webp", "image/png", "a.jpg") == "image/webp");
  CHECK(detail::choose_content_type("", "image/png", "a.jpg") == "image/png");
  CHECK(detail::choose_content_type("", "", "photo.JPG") == "image/jpeg");
  CHECK(detail::choose_content_type("", "", "/x/y/clip.mp4") == "video/mp4");
  CHECK(detail::choose_content_type("", "", "voice.m4a") == "audio/mp4");
  CHECK(detail::choose_content_type("", "", "data.unknownext") == "application/octet-stream");
  CHECK(detail::choose_content_type("", "", "") == "application/octet-stream");
  CHECK(inf::common::media_type_for_file_name("archive.tar.gz").find("gzip") != std::string::npos);
  CHECK(inf::common::media_type_for_file_name("noextension").empty());
}

TEST_CASE("the file create request declares one slot with what is known", "[files]") {
  detail::UploadMetadata metadata;
  metadata.filename = "cat.png";
  metadata.content_type = "image/png";
  metadata.size = 7;
  const auto call = detail::create_file_call(metadata);
  CHECK(call.method == "POST");
  CHECK(call.path == "/files");
  CHECK(
      *call.body ==
      json{{"files",
            {{{"uri", ""}, {"filename", "cat.png"}, {"content_type", "image/png"}, {"size", 7}}}}});
  metadata.is_public = true;
  metadata.path = "inputs/cat.png";
  const auto public_call = detail::create_file_call(metadata);
  CHECK((*public_call.body)["files"][0]["public"] == true);
  CHECK((*public_call.body)["files"][0]["path"] == "inputs/cat.png");
}

TEST_CASE("a created file without an upload URL is an error", "[files]") {
  const auto created = detail::created_file(json::array(
      {{{"id", "f1"}, {"uri", "https://cdn/f1.png"}, {"upload_url", "https://up/f1"}}}));
  CHECK(created.file.id == "f1");
  CHECK(created.file.uri == "https://cdn/f1.png");
  CHECK(created.upload_url == "https://up/f1");
  CHECK_THROWS_WITH(detail::created_file(json::array({{{"id", "f1"}, {"upload_url", ""}}})),
                    Catch::Contains("no upload URL"));
  CHECK_THROWS_AS(detail::created_file(json::array()), inf::DecodeError);
}

TEST_CASE("server-supplied file names cannot escape the download directory", "[files]") {
  CHECK(detail::safe_file_name("cat.png") == "cat.png");
  CHECK(detail::safe_file_name("../../etc/passwd") == "passwd");
  CHECK(detail::safe_file_name("..") == "download");
  CHECK(detail::safe_file_name("...") == "download");
  CHECK(detail::safe_file_name("a\\..\\..\\boot.ini") == "boot.ini");
  CHECK(detail::safe_file_name("%2e%2e%2fsecret") == "secret");
  CHECK(detail::safe_file_name(".bashrc") == "bashrc");
  CHECK(detail::safe_file_name("we\x01ird\nname.txt") == "we_ird_name.txt");
  CHECK(detail::safe_file_name("") == "download");
  CHECK(detail::safe_file_name("/") == "download");
  CHECK(detail::safe_file_name(std::string(500, 'x')).size() == 200);
}

TEST_CASE("download names come from Content-Disposition or the URL", "[files]") {
  CHECK(detail::content_disposition_file_name("attachment; filename=\"a b.png\"") == "a b.png");
  CHECK(detail::content_disposition_file_name(
            "attachment; filename=\"fallback.png\"; filename*=UTF-8''%E6%97%A5.png") == "日.png");
  CHECK_FALSE(detail::content_disposition_file_name("inline").has_value());
  CHECK(detail::url_file_name("https://cdn.example/u/x/cat.png?sig=1#f") == "cat.png");
  CHECK(detail::url_file_name("https://cdn.example") == "");
}

TEST_CASE("the API key goes only to the API's own origin", "[files]") {
  CHECK(detail::same_origin("https://api.inference.sh/files/f1", "https://api.inference.sh"));
  CHECK(detail::same_origin("HTTPS://API.inference.sh:443/x", "https://api.inference.sh"));
  CHECK(detail::same_origin("http://127.0.0.1:8080/f", "http://127.0.0.1:8080"));
  CHECK_FALSE(detail::same_origin("http://127.0.0.1:8081/f", "http://127.0.0.1:8080"));
  CHECK_FALSE(detail::same_origin("https://cdn.inference.sh/f", "https://api.inference.sh"));
  CHECK_FALSE(detail::same_origin("http://api.inference.sh/f", "https://api.inference.sh"));
  CHECK_FALSE(
      detail::same_origin("https://api.inference.sh@evil.example/f", "https://api.inference.sh"));
  CHECK_FALSE(detail::same_origin("not a url", "https://api.inference.sh"));
}

TEST_CASE("a redirect's Location is resolved against the URL it answered", "[files]") {
  const std::string base = "https://api.example.com/files/a/content?token=t#frag";
  CHECK(detail::resolve_redirect(base, "https://cdn.example.com/x.png?sig=1") ==
        "https://cdn.example.com/x.png?sig=1");
  CHECK(detail::resolve_redirect(base, "HTTP://cdn.example.com/x") == "HTTP://cdn.example.com/x");
  CHECK(detail::resolve_redirect(base, "//cdn.example.com/x") == "https://cdn.example.com/x");
  CHECK(detail::resolve_redirect(base, "/other/./b/../c?q=1#f") ==
        "https://api.example.com/other/c?q=1");
  CHECK(detail::resolve_redirect(base, "raw") == "https://api.example.com/files/a/raw");
  CHECK(detail::resolve_redirect(base, "../../up") == "https://api.example.com/up");
  CHECK(detail::resolve_redirect(base, "../../../../up") == "https://api.example.com/up");
  CHECK(detail::resolve_redirect(base, "?token=u") ==
        "https://api.example.com/files/a/content?token=u");
  CHECK(detail::resolve_redirect("http://h:8080", "x") == "http://h:8080/x");
  CHECK_FALSE(detail::resolve_redirect(base, "file:///etc/passwd"));
  CHECK_FALSE(detail::resolve_redirect(base, "ftp://example.com/x"));
  CHECK_FALSE(detail::resolve_redirect(base, "javascript:alert(1)"));
  CHECK(detail::is_http_url("https://h/x"));
  CHECK_FALSE(detail::is_http_url("https:///x"));
  CHECK_FALSE(detail::is_http_url("mailto:x@y"));
}
