// maintenance/field_names: PHP's reading of form field names (audit 5,
// finding 1) and the bracket spelling of JSON paths (finding 3).
#include "maintenance/field_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tidegate::maintenance {
namespace {

// PHP's reading of each name in order ("=" when it is the name as sent).
std::vector<std::string> Php(const std::vector<std::string>& names, bool multipart = false) {
  PhpNameReader reader;
  std::vector<std::string> out;
  for (const std::string& name : names) {
    std::string reading;
    out.push_back(reader.Read(name, multipart, &reading) ? reading : "=");
  }
  return out;
}

std::string Php1(const std::string& name, bool multipart = false) {
  return Php({name}, multipart)[0];
}

TEST(PhpNameReaderTest, PlainNamesAreReadAsSent) {
  EXPECT_EQ(Php1("shipping_method"), "=");
  EXPECT_EQ(Php1("x[0]"), "=");
  EXPECT_EQ(Php1("payment[method]"), "=");
  EXPECT_EQ(Php1(""), "=");
}

TEST(PhpNameReaderTest, BaseNameDotsAndSpacesBecomeUnderscores) {
  EXPECT_EQ(Php1("shipping.method"), "shipping_method");
  EXPECT_EQ(Php1("shipping method"), "shipping_method");
  EXPECT_EQ(Php1("shipping.method[0]"), "shipping_method[0]");
  EXPECT_EQ(Php1("a[b.c]"), "=");  // only the base name is mangled
}

TEST(PhpNameReaderTest, LeadingSpacesAndNulCut) {
  EXPECT_EQ(Php1(" shipping_method"), "shipping_method");
  EXPECT_EQ(Php1("  shipping_method"), "shipping_method");
  EXPECT_EQ(Php1(std::string("shipping_method\0x", 17)), "shipping_method");
  EXPECT_EQ(Php1(std::string("\0x", 2)), "");  // no name: PHP drops it
  EXPECT_EQ(Php1(" "), "");
  EXPECT_EQ(Php1("[a]"), "");
}

TEST(PhpNameReaderTest, UnclosedBracket) {
  EXPECT_EQ(Php1("shipping[method"), "shipping_method");
  EXPECT_EQ(Php1("a[b.c d[e"), "a_b_c_d_e");
  EXPECT_EQ(Php1("a[b][c"), "a[b]");  // a nested unclosed '[' ends the name
}

TEST(PhpNameReaderTest, Indices) {
  EXPECT_EQ(Php1("x[ 0]"), "x[0]");
  EXPECT_EQ(Php1("x[\t0]"), "x[0]");
  EXPECT_EQ(Php1("x[a]tail"), "x[a]");
  EXPECT_EQ(Php1("x[a][b]"), "=");
  EXPECT_EQ(Php1("x[]"), "x[0]");
  EXPECT_EQ(Php1("x[ ]"), "x[0]");
  // "x[]" appends: the next integer index of that array, in order.
  EXPECT_EQ(Php({"x[]", "x[]", "y[]", "x[]"}),
            (std::vector<std::string>{"x[0]", "x[1]", "y[0]", "x[2]"}));
  EXPECT_EQ(Php({"x[5]", "x[]", "x[a]", "x[]"}),
            (std::vector<std::string>{"=", "x[6]", "=", "x[7]"}));
  EXPECT_EQ(Php({"x[07]", "x[]"}), (std::vector<std::string>{"=", "x[0]"}));  // "07" is a string
  EXPECT_EQ(Php({"a[][b]", "a[][b]"}), (std::vector<std::string>{"a[0][b]", "a[1][b]"}));
}

TEST(PhpNameReaderTest, MultipartSingleQuotes) {
  EXPECT_EQ(Php1("'shipping_method'", true), "shipping_method");
  EXPECT_EQ(Php1("'shipping.method'", true), "shipping_method");
  EXPECT_EQ(Php1("'shipping_method'", false), "=");  // a urlencoded name keeps its quotes
  EXPECT_EQ(Php1("shipping.method", true), "shipping_method");
}

TEST(FieldNamesTest, BracketNameAndDottedPath) {
  EXPECT_EQ(BracketName("payment.method"), "payment[method]");
  EXPECT_EQ(BracketName("a.b.c"), "a[b][c]");
  EXPECT_EQ(BracketName("method"), "method");
  EXPECT_EQ(BracketName("a..b"), "");
  EXPECT_EQ(BracketName(""), "");
  EXPECT_EQ(DottedPathOf("payment[method]"), "payment.method");
  EXPECT_EQ(DottedPathOf("a[b][c]"), "a.b.c");
  EXPECT_EQ(DottedPathOf("method"), "");
  EXPECT_EQ(DottedPathOf("x[]"), "");
  EXPECT_EQ(DottedPathOf("x[a.b]"), "");
  EXPECT_EQ(DottedPathOf("x[a]b"), "");
  EXPECT_EQ(DottedPathOf("[a]"), "");
}

}  // namespace
}  // namespace tidegate::maintenance
