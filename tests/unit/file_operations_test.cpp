#include <catch2/catch.hpp>

#include "data_uri.hpp"
#include "file_operations.hpp"
#include "inferencesh/errors.hpp"
#include "mime_types.hpp"

namespace inf = inferencesh;
namespace detail = inferencesh::detail;
using nlohmann::json;

TEST_CASE("base64 decodes standard and URL-safe text, padded or not", "[files]") {
  CHECK(detail::decode_base64("UE5HREFUQQ==") == "PNGDATA");
  CHECK(detail::decode_base64("UE5HREFUQQ") == "PNGDATA");
  CHECK(detail::decode_base64("-_8") == std::string("\xfb\xff", 2));
  CHECK(detail::decode_base64("+/8=") == std::string("\xfb\xff", 2));
  CHECK(detail::decode_base64("") == "");
  CHECK_FALSE(detail::decode_base64("abc$").has_value());
  CHECK_FALSE(detail::decode_base64("a").has_value());
  CHECK_FALSE(detail::decode_base64("ab=").has_value());
}

TEST_CASE("base64 encoding round-trips every length", "[files]") {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    CHECK(detail::decode_base64(detail::encode_base64(bytes)) == bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
  CHECK(detail::encode_base64("PNGDATA") == "UE5HREFUQQ==");
}

TEST_CASE("strict base64 follows the Python SDK's rule", "[files]") {
  CHECK(detail::is_strict_base64("aGVsbG8gd29ybGQhISE=", 16));
  CHECK_FALSE(detail::is_strict_base64("aGVsbG8=", 16));              // too short
  CHECK_FALSE(detail::is_strict_base64("aGVsbG8gd29ybGQhISE", 16));   // length not a multiple of 4
  CHECK_FALSE(detail::is_strict_base64("aGVsbG8gd29y-GQhISE=", 16));  // URL-safe is not strict
  CHECK_FALSE(detail::is_strict_base64("hello world, this", 16));
}

TEST_CASE("data URIs decode base64, URL-safe and percent-encoded payloads", "[files]") {
  const auto png = detail::parse_data_uri("data:image/png;base64,UE5HREFUQQ==");
  CHECK(png.media_type == "image/png");
  CHECK(png.bytes == "PNGDATA");
  CHECK(detail::parse_data_uri("data:image/png;base64,-_8").bytes == std::string("\xfb\xff", 2));
  const auto text = detail::parse_data_uri("data:,hello%20world");
  CHECK(text.media_type.empty());
  CHECK(text.bytes == "hello world");
  CHECK(detail::parse_data_uri("data:text/plain;charset=utf-8,a%2Cb").bytes == "a,b");
  CHECK(detail::parse_data_uri("data:text/plain;charset=utf-8,a%2Cb").media_type == "text/plain");
}

TEST_CASE("invalid data URIs are refused with the reason", "[files]") {
  CHECK_THROWS_WITH(detail::parse_data_uri("data:image/png;base64"), Catch::Contains("no ','"));
  CHECK_THROWS_WITH(detail::parse_data_uri("data:image/png;base64,@@@@"),
                    Catch::Contains("not valid base64"));
  CHECK_THROWS_WITH(detail::parse_data_uri("data:,bad%zz"), Catch::Contains("percent-escape"));
  CHECK_THROWS_WITH(detail::parse_data_uri("data:png;base64,AAAA"),
                    Catch::Contains("not a media type"));
  CHECK_THROWS_AS(detail::parse_data_uri("http://x"), inf::InvalidArgumentError);
}

TEST_CASE("content types come from the option, the data URI, then the extension", "[files]") {
  CHECK(detail::choose_content_type("image/webp", "image/png", "a.jpg") == "image/webp");
  CHECK(detail::choose_content_type("", "image/png", "a.jpg") == "image/png");
  CHECK(detail::choose_content_type("", "", "photo.JPG") == "image/jpeg");
  CHECK(detail::choose_content_type("", "", "/x/y/clip.mp4") == "video/mp4");
  CHECK(detail::choose_content_type("", "", "voice.m4a") == "audio/mp4");
  CHECK(detail::choose_content_type("", "", "data.unknownext") == "application/octet-stream");
  CHECK(detail::choose_content_type("", "", "") == "application/octet-stream");
  CHECK(detail::content_type_for("archive.tar.gz").find("gzip") != std::string::npos);
  CHECK(detail::content_type_for("noextension").empty());
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
