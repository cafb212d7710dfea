#include "maintenance/multipart_fields.h"

#include <map>

#include "common/ascii.h"
#include "proxy/http_message.h"

namespace tidegate::maintenance {
namespace {

constexpr size_t kMaxBoundary = 70;  // RFC 2046 §5.1.1
constexpr size_t kMaxHeaderLine = 8192;
constexpr size_t kMaxParts = 1000;

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = common::AsciiLower(c);
  return out;
}

// Reads `; key=value` parameters (value a token or a quoted-string with
// backslash escapes) after a media type or disposition type. Keys are
// lower-cased. False when the syntax is off or a key repeats.
bool ReadParams(std::string_view rest, std::map<std::string, std::string>* params) {
  while (true) {
    rest = TrimWs(rest);
    if (rest.empty()) return true;
    if (rest.front() != ';') return false;
    rest = TrimWs(rest.substr(1));
    if (rest.empty()) return true;  // a trailing ';' is harmless
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return false;
    std::string key = Lower(TrimWs(rest.substr(0, eq)));
    if (key.empty()) return false;
    rest = TrimWs(rest.substr(eq + 1));
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
      if (i >= rest.size()) return false;  // unterminated quote
      rest.remove_prefix(i + 1);
    } else {
      size_t end = rest.find(';');
      value = std::string(TrimWs(rest.substr(0, end)));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    if (!params->emplace(std::move(key), std::move(value)).second) return false;
  }
}

struct PartHeaders {
  std::string name;
  bool ok = false;
};

// Parses the header block of one part (without its final CRLF CRLF).
PartHeaders ReadPartHeaders(std::string_view block) {
  PartHeaders out;
  bool disposition_seen = false;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    if (line.size() > kMaxHeaderLine || line.find('\n') != std::string_view::npos ||
        line.find('\r') != std::string_view::npos) {
      return out;
    }
    if (line.front() == ' ' || line.front() == '\t') return out;  // obsolete folding
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return out;
    std::string_view name = line.substr(0, colon);
    std::string_view value = TrimWs(line.substr(colon + 1));
    if (proxy::EqualsIgnoreCase(name, "Content-Disposition")) {
      if (disposition_seen) return out;
      disposition_seen = true;
      size_t semicolon = value.find(';');
      if (!proxy::EqualsIgnoreCase(TrimWs(value.substr(0, semicolon)), "form-data")) return out;
      std::map<std::string, std::string> params;
      if (semicolon == std::string_view::npos || !ReadParams(value.substr(semicolon), &params)) {
        return out;
      }
      if (params.count("name*") || params.count("filename*")) return out;
      auto it = params.find("name");
      if (it == params.end()) return out;
      out.name = it->second;
    } else if (proxy::EqualsIgnoreCase(name, "Content-Transfer-Encoding")) {
      if (!proxy::EqualsIgnoreCase(value, "7bit") && !proxy::EqualsIgnoreCase(value, "8bit") &&
          !proxy::EqualsIgnoreCase(value, "binary")) {
        return out;
      }
    }
  }
  out.ok = disposition_seen;
  return out;
}

}  // namespace

std::optional<std::string> MultipartBoundary(std::string_view content_type) {
  size_t semicolon = content_type.find(';');
  if (semicolon == std::string_view::npos) return std::nullopt;
  std::map<std::string, std::string> params;
  if (!ReadParams(content_type.substr(semicolon), &params)) return std::nullopt;
  auto it = params.find("boundary");
  if (it == params.end() || it->second.empty() || it->second.size() > kMaxBoundary) {
    return std::nullopt;
  }
  return it->second;
}

MultipartResult ParseMultipartFields(std::string_view body, std::string_view boundary,
                                     bool complete,
                                     std::vector<std::pair<std::string, std::string>>* fields) {
  const MultipartResult cut = complete ? MultipartResult::kMalformed : MultipartResult::kTruncated;
  const std::string dash_boundary = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash_boundary;
  // The first delimiter: at the very start, or after a preamble line.
  size_t pos;
  if (body.substr(0, dash_boundary.size()) == dash_boundary) {
    pos = dash_boundary.size();
  } else {
    size_t found = body.find(delimiter);
    if (found == std::string_view::npos) return cut;
    pos = found + delimiter.size();
  }
  for (size_t parts = 0;; ++parts) {
    // After a delimiter: "--" closes; otherwise optional padding then CRLF.
    std::string_view rest = body.substr(pos);
    if (rest.size() < 2) return cut;
    if (rest.substr(0, 2) == "--") return MultipartResult::kComplete;  // epilogue ignored
    size_t i = 0;
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    if (i + 2 > rest.size()) return cut;
    if (rest.substr(i, 2) != "\r\n") return MultipartResult::kMalformed;
    if (parts >= kMaxParts) return MultipartResult::kMalformed;
    rest.remove_prefix(i + 2);
    size_t headers_end = rest.find("\r\n\r\n");
    // A part may have no header lines at all; it then has no name (malformed).
    if (rest.substr(0, 2) == "\r\n") return MultipartResult::kMalformed;
    if (headers_end == std::string_view::npos) {
      return complete || rest.size() > kMaxHeaderLine * 4 ? MultipartResult::kMalformed : cut;
    }
    PartHeaders headers = ReadPartHeaders(rest.substr(0, headers_end));
    if (!headers.ok) return MultipartResult::kMalformed;
    std::string_view content = rest.substr(headers_end + 4);
    size_t end = content.find(delimiter);
    if (end == std::string_view::npos) return cut;
    fields->emplace_back(std::move(headers.name), std::string(content.substr(0, end)));
    pos = static_cast<size_t>(content.data() - body.data()) + end + delimiter.size();
  }
}

}  // namespace tidegate::maintenance
