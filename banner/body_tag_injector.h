// BodyTagInjector: inserts given bytes right after the opening `<body …>` tag
// of an HTML document that streams through it in pieces.
//
// What counts as the tag: `<body` (any case) followed by whitespace, `/` or
// `>`, then attributes up to the first `>` outside single or double quotes
// (`<body data-x="a>b">` ends after `b">`). `<bodyx>` is another element.
// Bytes inside `<!-- … -->` comments and inside `<script>` / `<style>`
// elements are skipped, so a `<body>` written there (a commented-out
// template, a string in a head script) never receives the insertion; other
// `<!…>` declarations and other tags are skipped with their quoted
// attributes.
//
// Streaming and memory: the injector never holds document bytes. Everything
// before the end of the tag can be passed on as soon as it was scanned (the
// insertion goes after it), so Process() scans the piece in place, carrying
// only a few bytes of parser state across pieces — a tag split across any
// number of pieces is still found. Only the first `window` bytes of the
// document are scanned: past them (or at the end of the stream) without a
// tag, every byte passes unchanged and found() stays false. The insertion
// happens at most once.
//
// Thread: one injector per response, used on one thread. Not copyable.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/libevent_handles.h"

namespace tidegate::banner {

class BodyTagInjector {
 public:
  static constexpr size_t kDefaultWindow = 64 * 1024;

  // `insertion` is copied once.
  explicit BodyTagInjector(std::string insertion, size_t window = kDefaultWindow);
  // Shares `insertion` (not null; a rendered banner shared by requests).
  explicit BodyTagInjector(std::shared_ptr<const std::string> insertion,
                           size_t window = kDefaultWindow);
  BodyTagInjector(const BodyTagInjector&) = delete;
  BodyTagInjector& operator=(const BodyTagInjector&) = delete;

  // Scans `piece` (the next bytes of the document) and, when the tag ends in
  // it, splits the buffer there and inserts the bytes: the buffer's chains
  // are moved, not copied. Pieces after the insertion or the window are not
  // looked at.
  void Process(evbuffer* piece);
  // Same, for bytes in memory (tests, callers without an evbuffer): appends
  // the piece (with the insertion when the tag ends in it) to `out`.
  void Process(std::string_view piece, std::string* out);
  // Same, without copying: scans `piece` and returns the offset in it where
  // the insertion goes (just after the tag's '>'), or npos. The caller
  // writes the piece's bytes and, at that offset, insertion().
  size_t Find(std::string_view piece);
  const std::string& insertion() const { return *insertion_; }

  bool found() const { return state_ == State::kInserted; }
  // True once nothing more will change: inserted, or the window is exhausted.
  bool done() const { return state_ == State::kInserted || state_ == State::kGaveUp; }
  uint64_t scanned() const { return scanned_; }
  // How many bytes the insertion adds to the document when found().
  size_t insertion_size() const { return insertion_->size(); }

 private:
  enum class State {
    kText,        // outside any tag
    kTagOpen,     // after '<', reading the tag name
    kBang,        // after "<!", maybe a comment
    kComment,     // inside <!-- … -->
    kAttributes,  // inside a tag, outside quotes
    kDoubleQuoted,
    kSingleQuoted,
    kRawText,  // inside <script> / <style>, looking for its end tag
    kInserted,
    kGaveUp,
  };
  enum class TagKind { kBody, kRawText, kOther };

  // Scans `data`; returns the offset just after the tag's '>' when the tag
  // ends in it, or npos. Updates state_ and scanned_.
  size_t Scan(const char* data, size_t len);
  // Handles one byte outside kText; returns true when the body tag ends here.
  bool Step(char c);
  // How many of the `n` bytes at `p` Step() would pass over without any
  // change (inside quotes, attributes, comments, script/style text).
  size_t SkipInert(const char* p, size_t n) const;
  void EndTagName(char c);

  std::shared_ptr<const std::string> insertion_;
  size_t window_;
  uint64_t scanned_ = 0;
  State state_ = State::kText;
  TagKind tag_kind_ = TagKind::kOther;
  char name_[8] = {};
  size_t name_len_ = 0;
  int counter_ = 0;             // dashes of "<!--" / "-->", raw end-tag progress
  std::string_view raw_end_;    // "</script" or "</style"
  proxy::EvbufferPtr scratch_;  // reused for the split
};

}  // namespace tidegate::banner
