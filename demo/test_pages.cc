#include "demo/test_pages.h"

#include <event2/buffer.h>
#include <zlib.h>

#include <memory>
#include <string>

#include "demo/gzip.h"
#include "demo/http_util.h"
#include "demo/test_routes.h"

namespace tidegate::demo {
namespace {

constexpr long long kMaxPageBytes = 16 << 20;

std::string Param(const FormValues& query, const char* name) {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

// zlib-wrapped deflate (what "Content-Encoding: deflate" means).
std::string ZlibCompress(const std::string& data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(data.data()), data.size(), 6) != Z_OK) {
    return std::string();
  }
  out.resize(size);
  return out;
}

}  // namespace

bool ServeBannerTestPage(evhttp_request* req, ShopContext& ctx, std::string_view path) {
  if (path != "/banner-test/page") return false;
  FormValues query = QueryParams(req);
  long long size = 2048;
  if (std::string text = Param(query, "size"); !text.empty()) {
    size = ParseCount(text, kMaxPageBytes).value_or(-1);
    if (size < 0) {
      SendErrorPage(req, 400, "size must be 0..16777216");
      return true;
    }
  }
  std::string body = GeneratedHtml(static_cast<size_t>(size));
  std::string tag = Param(query, "tag");
  size_t at = body.find("<body>");
  if (at != std::string::npos && tag == "upper") body.replace(at, 6, "<BODY class=\"x\">");
  if (at != std::string::npos && tag == "none") body.replace(at, 6, "<main>");

  std::string enc = Param(query, "enc");
  if (enc == "auto") enc = AcceptsGzip(req) ? "gzip" : "";
  if (enc == "gzip") {
    body = GzipCompress(body).value_or(std::string());
  } else if (enc == "deflate") {
    body = ZlibCompress(body);
  } else if (enc == "br") {
    body = "\x1b\x03\x00\xf8\xa5\x40not really brotli";
  }
  if (!enc.empty()) AddHeader(req, "Content-Encoding", enc);
  AddHeader(req, "Vary", "Accept-Encoding");
  if (std::string cc = Param(query, "cc"); !cc.empty()) AddHeader(req, "Cache-Control", cc);
  if (std::string cd = Param(query, "cd"); !cd.empty()) AddHeader(req, "Content-Disposition", cd);
  if (Param(query, "csp") == "1") {
    AddHeader(req, "Content-Security-Policy", "default-src 'self'; style-src 'self'");
  }
  if (Param(query, "etag") == "1") {
    AddHeader(req, "ETag", "\"v1\"");
    AddHeader(req, "Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ==");
    AddHeader(req, "Accept-Ranges", "bytes");
  }
  std::string type = Param(query, "type");
  if (type.empty()) type = "text/html; charset=utf-8";
  int status = static_cast<int>(ParseCount(Param(query, "status"), 599).value_or(200));
  if (status < 200) status = 200;

  if (Param(query, "chunked") == "1" && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type.c_str());
    evhttp_send_reply_start(req, status, "OK");
    // Pieces of 1000 bytes, so a body tag is split across chunks.
    for (size_t off = 0; off < body.size(); off += 1000) {
      std::unique_ptr<evbuffer, decltype(&evbuffer_free)> piece(evbuffer_new(), &evbuffer_free);
      evbuffer_add(piece.get(), body.data() + off, std::min<size_t>(1000, body.size() - off));
      evhttp_send_reply_chunk(req, piece.get());
    }
    evhttp_send_reply_end(req);
    return true;
  }
  SendBody(req, status, type.c_str(), body);
  return true;
}

}  // namespace tidegate::demo
