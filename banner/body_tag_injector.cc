#include "banner/body_tag_injector.h"

#include <algorithm>
#include <cstring>

#include "common/ascii.h"

namespace tidegate::banner {
namespace {

constexpr size_t kNotFound = static_cast<size_t>(-1);

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

}  // namespace

BodyTagInjector::BodyTagInjector(std::string insertion, size_t window)
    : insertion_(std::make_shared<const std::string>(std::move(insertion))), window_(window) {}

BodyTagInjector::BodyTagInjector(std::shared_ptr<const std::string> insertion, size_t window)
    : insertion_(std::move(insertion)), window_(window) {}

void BodyTagInjector::EndTagName(char c) {
  std::string_view name(name_, std::min(name_len_, sizeof(name_)));
  if (name_len_ > sizeof(name_)) name = {};
  if (name == "body") {
    tag_kind_ = TagKind::kBody;
  } else if (name == "script" || name == "style") {
    tag_kind_ = TagKind::kRawText;
    raw_end_ = name == "script" ? "</script" : "</style";
  } else {
    tag_kind_ = TagKind::kOther;
  }
}

bool BodyTagInjector::Step(char c) {
  switch (state_) {
    case State::kTagOpen: {
      bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (name_len_ == 0) {
        if (c == '!') {
          state_ = State::kBang;
          counter_ = 0;
        } else if (letter) {
          name_[name_len_++] = common::AsciiLower(c);
        } else if (c != '<') {
          state_ = State::kText;  // "a < b": not a tag; a second '<' restarts
        }
        return false;
      }
      if (!IsSpace(c) && c != '/' && c != '>') {
        // Still the name ("<bodyx", "<h1"): kept only while it may be short.
        if (name_len_ < sizeof(name_)) name_[name_len_] = common::AsciiLower(c);
        if (name_len_ <= sizeof(name_)) ++name_len_;
        return false;
      }
      EndTagName(c);
      state_ = State::kAttributes;
      [[fallthrough]];
    }
    case State::kAttributes:
      if (c == '"') {
        state_ = State::kDoubleQuoted;
      } else if (c == '\'') {
        state_ = State::kSingleQuoted;
      } else if (c == '>') {
        if (tag_kind_ == TagKind::kBody) return true;
        if (tag_kind_ == TagKind::kRawText) {
          state_ = State::kRawText;
          counter_ = 0;
        } else {
          state_ = State::kText;
        }
      }
      return false;
    case State::kDoubleQuoted:
      if (c == '"') state_ = State::kAttributes;
      return false;
    case State::kSingleQuoted:
      if (c == '\'') state_ = State::kAttributes;
      return false;
    case State::kBang:
      if (c == '-' && counter_ < 2) {
        if (++counter_ == 2) {
          state_ = State::kComment;
          counter_ = 0;
        }
        return false;
      }
      // A declaration such as <!DOCTYPE html>: skipped like a tag.
      tag_kind_ = TagKind::kOther;
      state_ = c == '>' ? State::kText : State::kAttributes;
      return false;
    case State::kComment:
      if (c == '-') {
        ++counter_;
      } else {
        if (c == '>' && counter_ >= 2) state_ = State::kText;
        counter_ = 0;
      }
      return false;
    case State::kRawText:
      if (common::AsciiLower(c) == raw_end_[counter_]) {
        if (static_cast<size_t>(++counter_) == raw_end_.size()) {
          tag_kind_ = TagKind::kOther;  // the end tag: skip to its '>'
          state_ = State::kAttributes;
        }
      } else {
        counter_ = c == '<' ? 1 : 0;
      }
      return false;
    case State::kText:
    case State::kInserted:
    case State::kGaveUp:
      return false;
  }
  return false;
}

size_t BodyTagInjector::SkipInert(const char* p, size_t n) const {
  // Each case mirrors Step(): the bytes skipped are those it would ignore.
  const void* hit = nullptr;
  switch (state_) {
    case State::kAttributes: {
      size_t k = 0;
      while (k < n && p[k] != '"' && p[k] != '\'' && p[k] != '>') ++k;
      return k;
    }
    case State::kDoubleQuoted:
      hit = std::memchr(p, '"', n);
      break;
    case State::kSingleQuoted:
      hit = std::memchr(p, '\'', n);
      break;
    case State::kComment:
      if (counter_ != 0) return 0;  // after a '-': every byte counts
      hit = std::memchr(p, '-', n);
      break;
    case State::kRawText:
      if (counter_ != 0) return 0;  // inside a possible end tag
      hit = std::memchr(p, '<', n);
      break;
    default:
      return 0;
  }
  return hit == nullptr ? n : static_cast<size_t>(static_cast<const char*>(hit) - p);
}

size_t BodyTagInjector::Scan(const char* data, size_t len) {
  size_t i = 0;
  while (i < len) {
    if (scanned_ >= window_) {
      state_ = State::kGaveUp;
      return kNotFound;
    }
    size_t budget = std::min<uint64_t>(len - i, window_ - scanned_);
    if (state_ == State::kText) {
      const void* lt = std::memchr(data + i, '<', budget);
      if (lt == nullptr) {
        scanned_ += budget;
        i += budget;
        continue;
      }
      size_t skipped = static_cast<const char*>(lt) - (data + i);
      scanned_ += skipped + 1;
      i += skipped + 1;
      state_ = State::kTagOpen;
      name_len_ = 0;
      continue;
    }
    size_t inert = SkipInert(data + i, budget);
    if (inert > 0) {
      scanned_ += inert;
      i += inert;
      continue;
    }
    ++scanned_;
    if (Step(data[i++])) {
      state_ = State::kInserted;
      return i;
    }
  }
  if (scanned_ >= window_ && state_ != State::kInserted) state_ = State::kGaveUp;
  return kNotFound;
}

void BodyTagInjector::Process(evbuffer* piece) {
  if (done()) return;
  size_t total = evbuffer_get_length(piece);
  size_t offset = 0;
  while (offset < total && !done()) {
    evbuffer_ptr pos;
    evbuffer_ptr_set(piece, &pos, offset, EVBUFFER_PTR_SET);
    evbuffer_iovec vec[16];
    int n = std::min(evbuffer_peek(piece, -1, &pos, vec, 16), 16);
    if (n <= 0) return;
    for (int k = 0; k < n && !done(); ++k) {
      size_t at = Scan(static_cast<const char*>(vec[k].iov_base), vec[k].iov_len);
      if (at != kNotFound) {
        if (!scratch_) scratch_.reset(evbuffer_new());
        evbuffer_remove_buffer(piece, scratch_.get(), offset + at);
        evbuffer_add(scratch_.get(), insertion_->data(), insertion_->size());
        evbuffer_prepend_buffer(piece, scratch_.get());
        return;
      }
      offset += vec[k].iov_len;
    }
  }
}

size_t BodyTagInjector::Find(std::string_view piece) {
  if (done()) return std::string_view::npos;
  size_t at = Scan(piece.data(), piece.size());
  return at == kNotFound ? std::string_view::npos : at;
}

void BodyTagInjector::Process(std::string_view piece, std::string* out) {
  if (done()) {
    out->append(piece);
    return;
  }
  size_t at = Scan(piece.data(), piece.size());
  if (at == kNotFound) {
    out->append(piece);
    return;
  }
  out->append(piece.substr(0, at));
  out->append(*insertion_);
  out->append(piece.substr(at));
}

}  // namespace tidegate::banner
