// maintenance/multipart_fields: the strict multipart/form-data reader.
#include "maintenance/multipart_fields.h"

#include <gtest/gtest.h>

namespace tidegate::maintenance {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

MultipartResult Parse(const std::string& body, Fields* fields, bool complete = true) {
  return ParseMultipartFields(body, "XyZ", complete, fields);
}

TEST(MultipartBoundaryTest, FromContentType) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(MultipartBoundary("multipart/form-data;BOUNDARY=\"a b;c\"; charset=utf-8"), "a b;c");
  EXPECT_EQ(MultipartBoundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary="), std::nullopt);
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')),
            std::nullopt);
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=a; boundary=b"), std::nullopt);
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=\"abc"), std::nullopt);
}

TEST(MultipartFieldsTest, BrowserShape) {
  Fields f;
  std::string body =
      "preamble\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"cart\"\r\n\r\n7\r\n"
      "--XyZ  \r\n"
      "content-disposition: FORM-DATA; name=\"method\"\r\nContent-Type: text/plain\r\n\r\n"
      "invoice\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
      "line1\r\n-XyZ\r\nline2\r\n"
      "--XyZ--\r\nepilogue";
  ASSERT_EQ(Parse(body, &f), MultipartResult::kComplete);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"cart", "7"}));
  EXPECT_EQ(f[1], (std::pair<std::string, std::string>{"method", "invoice"}));
  EXPECT_EQ(f[2].second, "line1\r\n-XyZ\r\nline2");
}

TEST(MultipartFieldsTest, EmptyValueAndEscapedName) {
  Fields f;
  ASSERT_EQ(
      Parse("--XyZ\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\n\r\n--XyZ--", &f),
      MultipartResult::kComplete);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].first, "a\"b");
  EXPECT_EQ(f[0].second, "");
}

TEST(MultipartFieldsTest, CutBodyKeepsWholeParts) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"method\"\r\n\r\ninvo";
  Fields f;
  EXPECT_EQ(Parse(body, &f, /*complete=*/false), MultipartResult::kTruncated);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].first, "a");
  // The same bytes as a whole body: no closing delimiter → malformed.
  Fields g;
  EXPECT_EQ(Parse(body, &g, /*complete=*/true), MultipartResult::kMalformed);
  // Cut in the middle of the headers or of a delimiter.
  Fields h;
  EXPECT_EQ(Parse("--XyZ\r\nContent-Disp", &h, false), MultipartResult::kTruncated);
  EXPECT_EQ(Parse("--Xy", &h, false), MultipartResult::kTruncated);
}

TEST(MultipartFieldsTest, RefusesWhatParsersReadDifferently) {
  const char* bodies[] = {
      // bare LF line ends
      "--XyZ\nContent-Disposition: form-data; name=\"m\"\n\ninvoice\n--XyZ--\n",
      // no Content-Disposition, or not form-data, or no name
      "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: attachment; name=\"m\"\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
      // RFC 5987 name*, repeated parameter, repeated header
      "--XyZ\r\nContent-Disposition: form-data; name*=utf-8''m\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"m\"\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
      "Content-Disposition: form-data; name=\"m\"\r\n\r\nx\r\n--XyZ--",
      // encoded content, folded header, part without headers
      "--XyZ\r\nContent-Disposition: form-data; name=\"m\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\naW52b2ljZQ==\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data;\r\n name=\"m\"\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\n\r\nx\r\n--XyZ--",
      // garbage after a delimiter, no delimiter at all
      "--XyZjunk\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nx\r\n--XyZ--",
      "method=invoice",
      // the boundary as a prefix of a content line (parsers disagree on it)
      "--XyZ\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nx\r\n--XyZx\r\n--XyZ--",
  };
  for (const char* body : bodies) {
    Fields f;
    EXPECT_EQ(Parse(body, &f), MultipartResult::kMalformed) << body;
  }
}

TEST(MultipartFieldsTest, PartCountIsBounded) {
  std::string body;
  for (int i = 0; i < 1001; ++i) {
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n";
  }
  body += "--XyZ--";
  Fields f;
  EXPECT_EQ(Parse(body, &f), MultipartResult::kMalformed);
  EXPECT_LE(f.size(), 1000u);
}

}  // namespace
}  // namespace tidegate::maintenance
