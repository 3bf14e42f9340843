// The small codecs the client, the app library and the runtime share (src/common).

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "common/base64.hpp"
#include "common/data_uri.hpp"
#include "common/media_types.hpp"
#include "common/percent_encoding.hpp"

namespace common = inferencesh::common;

TEST_CASE("base64 decodes standard and URL-safe text, padded or not", "[common]") {
  CHECK(common::decode_base64("UE5HREFUQQ==") == "PNGDATA");
  CHECK(common::decode_base64("UE5HREFUQQ") == "PNGDATA");
  CHECK(common::decode_base64("-_8") == std::string("\xfb\xff", 2));
  CHECK(common::decode_base64("+/8=") == std::string("\xfb\xff", 2));
  CHECK(common::decode_base64("") == "");
  CHECK_FALSE(common::decode_base64("abc$").has_value());
  CHECK_FALSE(common::decode_base64("a").has_value());
  CHECK_FALSE(common::decode_base64("ab=").has_value());
}

TEST_CASE("base64 encoding round-trips every length", "[common]") {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    CHECK(common::decode_base64(common::encode_base64(bytes)) == bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
  CHECK(common::encode_base64("PNGDATA") == "UE5HREFUQQ==");
}

TEST_CASE("strict base64 follows the Python SDK's rule", "[common]") {
  CHECK(common::is_strict_base64("aGVsbG8gd29ybGQhISE=", 16));
  CHECK_FALSE(common::is_strict_base64("aGVsbG8=", 16));              // too short
  CHECK_FALSE(common::is_strict_base64("aGVsbG8gd29ybGQhISE", 16));   // length not a multiple of 4
  CHECK_FALSE(common::is_strict_base64("aGVsbG8gd29y-GQhISE=", 16));  // URL-safe is not strict
  CHECK_FALSE(common::is_strict_base64("hello world, this", 16));
}

TEST_CASE("a URI's scheme is read as RFC 3986 says, lower-cased, and a path has none", "[common]") {
  CHECK(common::uri_scheme("https://example.com/a.png") == "https");
  CHECK(common::uri_scheme("DATA:image/png;base64,AA") == "data");
  CHECK(common::uri_scheme("file:///tmp/a") == "file");
  CHECK(common::uri_scheme("svn+ssh://host/x") == "svn+ssh");
  CHECK(common::uri_scheme("/tmp/a.png").empty());
  CHECK(common::uri_scheme("relative/a:b").empty());  // '/' before the ':'
  CHECK(common::uri_scheme("1abc:x").empty());        // a scheme starts with a letter
  CHECK(common::uri_scheme(":x").empty());
  CHECK(common::uri_scheme("no-colon").empty());
}

TEST_CASE("data URIs decode base64, URL-safe and percent-encoded payloads", "[common]") {
  const auto png = common::parse_data_uri("data:image/png;base64,UE5HREFUQQ==");
  REQUIRE(png);
  CHECK(png->media_type == "image/png");
  CHECK(png->bytes == "PNGDATA");
  CHECK(common::parse_data_uri("data:image/png;base64,-_8")->bytes == std::string("\xfb\xff", 2));
  CHECK(common::parse_data_uri("data:image/png;base64,UE5H\nREFUQQ==")->bytes == "PNGDATA");
  const auto text = common::parse_data_uri("data:,hello%20world");
  REQUIRE(text);
  CHECK(text->media_type.empty());
  CHECK(text->bytes == "hello world");
  CHECK(common::parse_data_uri("data:text/plain;charset=utf-8,a%2Cb")->bytes == "a,b");
  CHECK(common::parse_data_uri("data:text/plain;charset=utf-8,a%2Cb")->media_type == "text/plain");
}

TEST_CASE("invalid data URIs are refused with the reason", "[common]") {
  const auto reason = [](std::string_view uri, std::uint64_t max = UINT64_MAX) {
    std::string why;
    return common::parse_data_uri(uri, &why, max) ? std::string("(accepted)") : why;
  };
  CHECK_THAT(reason("data:image/png;base64"), Catch::Contains("no ','"));
  CHECK_THAT(reason("data:image/png;base64,@@@@"), Catch::Contains("not valid base64"));
  CHECK_THAT(reason("data:,bad%zz"), Catch::Contains("percent-escape"));
  CHECK_THAT(reason("data:png;base64,AAAA"), Catch::Contains("not a media type"));
  CHECK_THAT(reason("http://x"), Catch::Contains("does not start with"));
  CHECK_THAT(reason("data:;base64,AAAAAAAA", 5), Catch::Contains("exceeds 5 bytes"));
  CHECK(reason("data:;base64,AAAAAAAA", 6) == "(accepted)");
}

TEST_CASE("percent-decoding is strict unless asked to keep malformed escapes", "[common]") {
  CHECK(common::percent_decode("a%20b%2Fc") == "a b/c");
  CHECK_FALSE(common::percent_decode("100%").has_value());
  CHECK_FALSE(common::percent_decode("%zz").has_value());
  CHECK(common::percent_decode_lenient("a%20b%2Fc") == "a b/c");
  CHECK(common::percent_decode_lenient("100%") == "100%");
}

TEST_CASE("lenient percent-decoding keeps every malformed escape as written", "[common]") {
  CHECK(common::percent_decode_lenient("%zz") == "%zz");
  CHECK(common::percent_decode_lenient("%4") == "%4");    // cut short at the end
  CHECK(common::percent_decode_lenient("%4g") == "%4g");  // one digit, then not hex
  CHECK(common::percent_decode_lenient("%%41") == "%A");  // a stray '%', then an escape
  CHECK(common::percent_decode_lenient("a+b") == "a+b");  // '+' is not a space here
  CHECK(common::percent_decode_lenient("%e2%82%AC") == "\xe2\x82\xac");  // any case of hex
  CHECK(common::percent_decode_lenient("%00") == std::string(1, '\0'));
  CHECK(common::percent_decode_lenient("") == "");
}

TEST_CASE("media types and extensions map both ways", "[common]") {
  CHECK(common::media_type_for_file_name("photo.JPG") == "image/jpeg");
  CHECK(common::media_type_for_file_name("/a/b/clip.webm") == "video/webm");
  CHECK(common::media_type_for_file_name("model.safetensors") == "application/octet-stream");
  CHECK(common::media_type_for_file_name("trailingdot.") == "");
  CHECK(common::extension_for_media_type("image/jpeg") == ".jpg");
  CHECK(common::extension_for_media_type("IMAGE/PNG; charset=binary") == ".png");
  CHECK(common::extension_for_media_type("audio/wav") == ".wav");
  CHECK(common::extension_for_media_type("image/jpg") == ".jpg");
  CHECK(common::extension_for_media_type("application/x-unknown") == "");
  CHECK(common::extension_for_media_type("application/octet-stream") == ".bin");
}
