// Differential driver for the HTTP/1 codec adapter (proxy/http1_codec.h):
// not shipped, not part of the build. tests/tools/http1_diff.sh compiles it
// against two trees (main's http_parser adapter and this one) and compares
// what it prints.
//
// Input files use the fuzz target's format (fuzz/fuzz_http1.cc): byte 0 bit 0
// = response, bit 1 = the request was HEAD; byte 1 is ignored; the rest is
// what the peer sends. For each file it prints everything a caller can
// observe (heads with their fields in order, body bytes, message ends, bytes
// consumed per Execute() summed per message, errors with status and reason,
// the FinishOnEof() answer) for the input fed whole, then for every other
// way of cutting it that it tries (every split point in two, one byte at a
// time, seeded random pieces) only when the transcript differs from the
// whole feed's.
//
//   http1_diff [--big-limits] FILE...
//   HTTP1_DIFF_CUTS=3,7,12 http1_diff FILE   (only that way of cutting it)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "proxy/http1_codec.h"

namespace {

using tidegate::proxy::Http1Parser;

std::string Escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

class Recorder : public Http1Parser::Callbacks {
 public:
  void OnRequestHead(tidegate::proxy::RequestHead&& h) override {
    Flush();
    out += "REQ " + Escape(h.method) + " " + Escape(h.target) + " 1." +
           std::to_string(h.version_minor) + " host=" + Escape(h.host) +
           " framing=" + std::to_string(static_cast<int>(h.framing)) +
           " cl=" + std::to_string(h.content_length) + " ka=" + std::to_string(h.keep_alive) +
           " ec=" + std::to_string(h.expect_continue) + "\n";
    for (const auto& f : h.headers.fields())
      out += "  " + Escape(f.name) + ": " + Escape(f.value) + "\n";
  }
  void OnResponseHead(tidegate::proxy::ResponseHead&& h) override {
    Flush();
    out += "RESP " + std::to_string(h.status) + " " + Escape(h.reason) + " 1." +
           std::to_string(h.version_minor) +
           " framing=" + std::to_string(static_cast<int>(h.framing)) +
           " cl=" + std::to_string(h.content_length) + " ka=" + std::to_string(h.keep_alive) +
           " date=" + std::to_string(h.has_date) + "\n";
    for (const auto& f : h.headers.fields())
      out += "  " + Escape(f.name) + ": " + Escape(f.value) + "\n";
  }
  void OnBody(const char* data, size_t len) override { body.append(data, len); }
  void OnMessageComplete() override {
    Flush();
    out += "COMPLETE\n";
    complete = true;
  }
  void Flush() {
    if (!body.empty()) out += "BODY " + Escape(body) + "\n";
    body.clear();
  }

  std::string out;
  std::string body;
  bool complete = false;
};

std::string Run(const std::string& input, const std::vector<size_t>& cuts, bool big) {
  const bool response = !input.empty() && (input[0] & 1);
  const bool head_request = !input.empty() && (input[0] & 2);
  std::string_view bytes =
      input.size() > 2 ? std::string_view(input).substr(2) : std::string_view();
  tidegate::proxy::ParseLimits limits;
  if (big) {
    limits.max_request_line = 1 << 20;
    limits.max_header_bytes = 1 << 20;
    limits.max_headers = 100000;
    limits.max_body_bytes = 0;
  } else {
    limits.max_request_line = 1024;
    limits.max_header_bytes = 4096;
    limits.max_headers = 32;
    limits.max_body_bytes = 1 << 16;
  }
  Recorder rec;
  Http1Parser parser(response ? Http1Parser::Kind::kResponse : Http1Parser::Kind::kRequest, limits,
                     &rec);
  if (response) parser.ExpectNoBody(head_request);
  std::string buf;
  size_t prev = 0;
  size_t consumed = 0;
  int messages = 0;
  std::vector<size_t> points = cuts;
  points.push_back(bytes.size());
  for (size_t cut : points) {
    if (cut < prev) continue;
    buf.append(bytes.substr(prev, cut - prev));
    prev = cut;
    while (!buf.empty() && !parser.failed() && messages < 8) {
      size_t n = parser.Execute(buf.data(), buf.size());
      buf.erase(0, n);
      consumed += n;
      if (rec.complete) {
        rec.out += "CONSUMED " + std::to_string(consumed) + "\n";
        rec.complete = false;
        ++messages;
        parser.Reset();
        if (response) parser.ExpectNoBody(head_request);
        continue;
      }
      if (n == 0) break;
    }
    if (parser.failed() || messages >= 8) break;
  }
  rec.Flush();
  if (parser.failed()) {
    rec.out +=
        "ERROR " + std::to_string(parser.error().status) + " " + parser.error().reason + "\n";
  } else if (messages < 8) {
    bool done = parser.FinishOnEof();
    rec.Flush();
    if (rec.complete) rec.out += "CONSUMED " + std::to_string(consumed) + "\n";
    rec.out += "EOF " + std::to_string(done) + " idle=" + std::to_string(parser.idle()) +
               " in_body=" + std::to_string(parser.in_body());
    if (parser.failed()) {
      rec.out += " error " + std::to_string(parser.error().status) + " " + parser.error().reason;
    }
    rec.out += "\n";
  }
  rec.out += "LEFT " + std::to_string(buf.size()) + "\n";
  return rec.out;
}

}  // namespace

int main(int argc, char** argv) {
  bool big = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--big-limits") == 0) {
      big = true;
      continue;
    }
    std::ifstream in(argv[i], std::ios::binary);
    std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (const char* only = std::getenv("HTTP1_DIFF_CUTS")) {  // "3,7,12": just these cuts
      std::vector<size_t> cuts;
      for (const char* p = only; *p != '\0';) {
        char* next = nullptr;
        cuts.push_back(std::strtoul(p, &next, 10));
        p = *next == ',' ? next + 1 : next;
        if (next == p && *p != '\0') break;
      }
      printf("== %s\n%s", argv[i], Run(input, cuts, big).c_str());
      continue;
    }
    std::string whole = Run(input, {}, big);
    printf("== %s\n%s", argv[i], whole.c_str());
    size_t n = input.size() > 2 ? input.size() - 2 : 0;
    std::vector<std::vector<size_t>> splits;
    if (n <= 400) {
      for (size_t k = 1; k < n; ++k) splits.push_back({k});
    }
    std::vector<size_t> bytewise;
    for (size_t k = 1; k < n; ++k) bytewise.push_back(k);
    splits.push_back(bytewise);
    std::mt19937 rng(static_cast<uint32_t>(n * 7919 + 1));
    for (int r = 0; r < 20; ++r) {
      std::vector<size_t> cuts;
      for (size_t k = 1; k < n; k += 1 + rng() % 17) cuts.push_back(k);
      splits.push_back(cuts);
    }
    for (size_t s = 0; s < splits.size(); ++s) {
      std::string t = Run(input, splits[s], big);
      if (t != whole) {
        printf("-- split %zu (first cut %zu, %zu cuts)\n%s", s,
               splits[s].empty() ? 0 : splits[s][0], splits[s].size(), t.c_str());
      }
    }
  }
  return 0;
}
