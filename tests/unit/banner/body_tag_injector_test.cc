#include "banner/body_tag_injector.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/libevent_handles.h"

namespace tidegate::banner {
namespace {

constexpr char kBanner[] = "[BANNER]";

// Feeds `pieces` through string Process(); returns the output.
std::string Inject(const std::vector<std::string>& pieces, size_t window = 64 * 1024,
                   bool* found = nullptr) {
  BodyTagInjector injector(kBanner, window);
  std::string out;
  for (const std::string& piece : pieces) injector.Process(piece, &out);
  if (found) *found = injector.found();
  return out;
}

// Same through evbuffers, one evbuffer per piece (the filter's path).
std::string RunEvbuffer(const std::vector<std::string>& pieces, size_t window = 64 * 1024) {
  BodyTagInjector injector(kBanner, window);
  std::string out;
  for (const std::string& piece : pieces) {
    proxy::EvbufferPtr buf(evbuffer_new());
    evbuffer_add(buf.get(), piece.data(), piece.size());
    injector.Process(buf.get());
    size_t len = evbuffer_get_length(buf.get());
    std::string text(len, '\0');
    evbuffer_remove(buf.get(), text.data(), len);
    out += text;
  }
  return out;
}

std::string Inserted(const std::string& doc, const std::string& tag) {
  std::string expected = doc;
  size_t at = expected.find(tag);
  expected.insert(at + tag.size(), kBanner);
  return expected;
}

const std::string kTag = "<body class=\"x\">";
const std::string kDoc =
    "<!doctype html><html><head><title>t</title></head>" + kTag + "<p>hello</p></body></html>";

TEST(BodyTagInjectorTest, InsertsOnceAfterTheTag) {
  bool found = false;
  std::string doc = kDoc + "<body>again</body>";
  EXPECT_EQ(Inject({doc}, 64 * 1024, &found), Inserted(doc, kTag));
  EXPECT_TRUE(found);
  EXPECT_EQ(RunEvbuffer({doc}), Inserted(doc, kTag));
}

TEST(BodyTagInjectorTest, TagSplitAtEveryOffsetAcrossTwoPieces) {
  std::string expected = Inserted(kDoc, kTag);
  size_t tag_at = kDoc.find(kTag);
  for (size_t cut = tag_at; cut <= tag_at + kTag.size(); ++cut) {
    std::vector<std::string> pieces = {kDoc.substr(0, cut), kDoc.substr(cut)};
    EXPECT_EQ(Inject(pieces), expected) << "cut at " << cut;
    EXPECT_EQ(RunEvbuffer(pieces), expected) << "cut at " << cut;
  }
}

TEST(BodyTagInjectorTest, TagSplitAtEveryPairOfOffsetsAcrossThreePieces) {
  std::string expected = Inserted(kDoc, kTag);
  size_t tag_at = kDoc.find(kTag);
  for (size_t a = tag_at; a <= tag_at + kTag.size(); ++a) {
    for (size_t b = a; b <= tag_at + kTag.size(); ++b) {
      std::vector<std::string> pieces = {kDoc.substr(0, a), kDoc.substr(a, b - a), kDoc.substr(b)};
      EXPECT_EQ(Inject(pieces), expected) << a << "," << b;
      EXPECT_EQ(RunEvbuffer(pieces), expected) << a << "," << b;
    }
  }
}

TEST(BodyTagInjectorTest, OneByteAtATime) {
  std::vector<std::string> pieces;
  for (char c : kDoc) pieces.emplace_back(1, c);
  EXPECT_EQ(Inject(pieces), Inserted(kDoc, kTag));
  EXPECT_EQ(RunEvbuffer(pieces), Inserted(kDoc, kTag));
}

TEST(BodyTagInjectorTest, UpperCaseAndPlainTags) {
  std::string upper = "<HTML><BODY CLASS=\"x\">hi</BODY>";
  EXPECT_EQ(Inject({upper}), Inserted(upper, "<BODY CLASS=\"x\">"));
  std::string plain = "<html><body>hi";
  EXPECT_EQ(Inject({plain}), Inserted(plain, "<body>"));
  std::string mixed = "<html><BoDy\n\tid='a'>hi";
  EXPECT_EQ(Inject({mixed}), Inserted(mixed, "<BoDy\n\tid='a'>"));
  std::string self_closing = "<html><body/>hi";
  EXPECT_EQ(Inject({self_closing}), Inserted(self_closing, "<body/>"));
}

TEST(BodyTagInjectorTest, GreaterThanInsideQuotedAttributes) {
  std::string doc = "<html><body data-a=\"x>y\" data-b='p>q' class=x>content";
  EXPECT_EQ(Inject({doc}), Inserted(doc, "class=x>"));
  // Split inside the quoted value.
  size_t cut = doc.find("x>y") + 1;
  EXPECT_EQ(Inject({doc.substr(0, cut), doc.substr(cut)}), Inserted(doc, "class=x>"));
}

TEST(BodyTagInjectorTest, LongerTagNamesAreNotBody) {
  std::string doc = "<html><bodyx>no</bodyx><bodies><body>yes";
  EXPECT_EQ(Inject({doc}), Inserted(doc, "<body>"));
}

TEST(BodyTagInjectorTest, NoTagPassesUnchanged) {
  bool found = true;
  std::string doc = "<html><head></head><p>no body tag here</p></html>";
  EXPECT_EQ(Inject({doc}, 64 * 1024, &found), doc);
  EXPECT_FALSE(found);
  EXPECT_EQ(Inject({"plain text, a < b > c"}), "plain text, a < b > c");
}

TEST(BodyTagInjectorTest, TagBeyondTheWindowPassesUnchanged) {
  std::string filler(2000, 'a');
  std::string doc = "<html><head>" + filler + "</head><body>late";
  bool found = true;
  EXPECT_EQ(Inject({doc}, 1024, &found), doc);
  EXPECT_FALSE(found);
  // Pieces too.
  EXPECT_EQ(Inject({doc.substr(0, 1000), doc.substr(1000)}, 1024), doc);
  // A tag that starts inside the window but ends past it is not taken either.
  std::string edge = std::string(1020, 'b') + "<body class=\"long\">";
  EXPECT_EQ(Inject({edge}, 1024), edge);
  // Within a bigger window it is found.
  EXPECT_EQ(Inject({doc}, 4096), Inserted(doc, "<body>"));
}

TEST(BodyTagInjectorTest, StopsLookingAfterTheWindow) {
  BodyTagInjector injector(kBanner, 1024);
  std::string out;
  injector.Process(std::string(1024, 'x'), &out);
  EXPECT_TRUE(injector.done());
  EXPECT_EQ(injector.scanned(), 1024u);
  injector.Process(std::string(1 << 20, 'y') + "<body>", &out);
  EXPECT_EQ(injector.scanned(), 1024u);  // never scanned again
  EXPECT_FALSE(injector.found());
}

// Choice: comments, <script> and <style> are skipped, so a <body> written
// inside them does not get the banner; the real tag after them does.
TEST(BodyTagInjectorTest, SkipsCommentsScriptsAndStyles) {
  std::string doc =
      "<!DOCTYPE html><html><head><!-- <body class=\"old\"> --><script>var s = \"<body>\";"
      "</script><style>/* <body> */</style></head><body id=\"real\">x";
  EXPECT_EQ(Inject({doc}), Inserted(doc, "<body id=\"real\">"));
  // Every split of the same document.
  for (size_t cut = 1; cut < doc.size(); ++cut) {
    ASSERT_EQ(Inject({doc.substr(0, cut), doc.substr(cut)}), Inserted(doc, "<body id=\"real\">"))
        << cut;
  }
}

TEST(BodyTagInjectorTest, BodyAtEndOfStreamIsLeftAlone) {
  bool found = true;
  EXPECT_EQ(Inject({"<html><bo", "dy"}, 64 * 1024, &found), "<html><body");
  EXPECT_FALSE(found);
  EXPECT_EQ(Inject({"<html><body class=\"x"}), "<html><body class=\"x");
}

TEST(BodyTagInjectorTest, RunsOfSkippedBytesEndWhereStepWouldAct) {
  // Dashes inside comments, '<' inside scripts, quotes and '>' inside
  // attributes: the runs the scan skips must stop at each of them, whole or
  // byte by byte.
  const std::vector<std::string> docs = {
      "<!-- a - b -- c --- > <body> --><body data-a='x>\"y' b=\">'\">ok",
      "<script>if (a<b && c<-d) x='</scrip'; </script ><style>a>b{}</style><body>",
      "<!----><!-- -- - --><p title=\"<body>\">t</p><BODY\tclass=a>",
      "<script>--></script><!-- <script> --><body>",
      "<style>\"</style>'<body>",
  };
  for (const std::string& doc : docs) {
    std::string whole = Inject({doc});
    std::vector<std::string> bytes;
    for (char c : doc) bytes.emplace_back(1, c);
    EXPECT_EQ(Inject(bytes), whole) << doc;
    EXPECT_EQ(RunEvbuffer(bytes), whole) << doc;
    EXPECT_EQ(whole.find(kBanner), whole.rfind('>', whole.find(kBanner)) + 1) << whole;
  }
  EXPECT_EQ(Inject({docs[0]}), Inserted(docs[0], "<body data-a='x>\"y' b=\">'\">"));
  EXPECT_EQ(Inject({docs[1]}), docs[1] + kBanner);
  EXPECT_EQ(Inject({docs[2]}), docs[2] + kBanner);
  EXPECT_EQ(Inject({docs[3]}), docs[3] + kBanner);
  EXPECT_EQ(Inject({docs[4]}), docs[4] + kBanner);
}

TEST(BodyTagInjectorTest, EvbufferWithManyChainsKeepsBytesInOrder) {
  BodyTagInjector injector(kBanner);
  proxy::EvbufferPtr buf(evbuffer_new());
  std::string doc;
  for (int i = 0; i < 40; ++i) {
    std::string part = "<p>" + std::to_string(i) + "</p>";
    if (i == 33) part += "<body>";
    doc += part;
    evbuffer* one = evbuffer_new();  // its own chain, moved as is
    evbuffer_add(one, part.data(), part.size());
    evbuffer_add_buffer(buf.get(), one);
    evbuffer_free(one);
  }
  injector.Process(buf.get());
  std::string out(evbuffer_get_length(buf.get()), '\0');
  evbuffer_remove(buf.get(), out.data(), out.size());
  EXPECT_EQ(out, Inserted(doc, "<body>"));
}

}  // namespace
}  // namespace tidegate::banner
