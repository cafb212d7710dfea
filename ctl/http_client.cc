#include "ctl/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <string_view>

namespace tidegate::ctl {
namespace {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

constexpr size_t kMaxResponse = 64 << 20;

// curl_global_init is not thread-safe; a function-local static is.
bool GlobalInitOnce() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc == CURLE_OK;
}

// One part of a parsed URL, or "" when absent.
std::string UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return "";
  std::string result(value);
  curl_free(value);
  return result;
}

// The URL libcurl is given: for a unix socket the host is only the Host header.
std::string RequestUrl(const HttpTarget& target, const std::string& path_and_query) {
  std::string authority = "localhost";
  if (target.unix_path.empty()) {
    std::string host = target.host;
    if (host.find(':') != std::string::npos) {
      std::string escaped;  // an IPv6 zone id: "%" is "%25" in a URL
      for (char c : host) escaped += c == '%' ? std::string("%25") : std::string(1, c);
      host = "[" + escaped + "]";
    }
    authority = host + ":" + std::to_string(target.port);
  }
  return std::string(target.tls ? "https://" : "http://") + authority + target.base_path +
         path_and_query;
}

struct Transfer {
  HttpResponse* response;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t len = size * count;
  if (transfer->response->body.size() + len > kMaxResponse) {
    transfer->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  transfer->response->body.append(data, len);
  return len;
}

// Called once per header line, status lines included. A new status line
// (after a 1xx answer) starts the headers afresh.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t len = size * count;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response->headers.clear();
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
  transfer->response->headers[name] = std::string(value);
  return len;
}

CurlSlist RequestHeaders(const HttpRequestSpec& spec) {
  curl_slist* list = nullptr;
  auto add = [&list](const std::string& line) {
    curl_slist* grown = curl_slist_append(list, line.c_str());
    if (grown != nullptr) list = grown;
  };
  add("Accept: application/json, text/plain");
  add("Expect:");  // no 100-continue round trip: bodies are small JSON documents
  if (spec.bearer_token) add("Authorization: Bearer " + *spec.bearer_token);
  if (spec.json_body) add("Content-Type: application/json");
  return CurlSlist(list);
}

// Sets every option of one request. The strings and the header list must
// outlive curl_easy_perform.
void Configure(CURL* curl, const HttpTarget& target, const HttpRequestSpec& spec,
               const std::string& url, curl_slist* headers, Transfer* transfer,
               char* error_buffer) {
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (!target.unix_path.empty()) {
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, target.unix_path.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // ignore *_proxy environment variables
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "tidegate-ctl");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  long timeout_ms = static_cast<long>(std::max<int64_t>(spec.timeout.count(), 1));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);  // bytes per second
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, (timeout_ms + 999) / 1000));

  curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);  // the name or IP address of the URL
  if (!spec.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, spec.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CAPATH,
                     static_cast<char*>(nullptr));  // that file only, not the system CAs
  }

  if (spec.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, spec.method.c_str());
  }
  if (spec.json_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(spec.json_body->size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, spec.json_body->data());
  }

  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxResponse));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, transfer);
}

bool IsTlsError(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

// Maps a failed transfer to the caller's error kinds and a message that
// names the cause (the OS error for a refused connection, as before).
void Classify(CURL* curl, CURLcode rc, const Transfer& transfer, const HttpTarget& target,
              const char* error_buffer, HttpError* kind, std::string* error) {
  std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
  curl_off_t connected_us = 0;
  curl_off_t tls_done_us = 0;
  curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connected_us);
  curl_easy_getinfo(curl, CURLINFO_APPCONNECT_TIME_T, &tls_done_us);
  if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT) {
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    *kind = HttpError::kConnect;
    *error = rc == CURLE_COULDNT_CONNECT && os_errno != 0
                 ? std::strerror(static_cast<int>(os_errno))
                 : detail;
  } else if (rc == CURLE_OPERATION_TIMEDOUT && connected_us == 0) {
    *kind = HttpError::kConnect;
    *error = "timed out connecting";
  } else if (rc == CURLE_OPERATION_TIMEDOUT && target.tls && tls_done_us == 0) {
    *kind = HttpError::kTls;
    *error = "TLS: timed out in the handshake";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    *kind = HttpError::kNoAnswer;
    *error = "timed out waiting for the response";
  } else if (IsTlsError(rc)) {
    *kind = HttpError::kTls;
    *error = "TLS: " + detail;
  } else if (transfer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    *kind = HttpError::kProtocol;
    *error = "response too large";
  } else if (rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE) {
    *kind = HttpError::kNoAnswer;
    *error = "connection closed before the response was complete (" + detail + ")";
  } else if (rc == CURLE_WEIRD_SERVER_REPLY) {
    *kind = HttpError::kProtocol;
    *error = "bad HTTP response: " + detail;
  } else if (rc == CURLE_SEND_ERROR) {
    *kind = HttpError::kIo;
    *error = "send: " + detail;
  } else if (rc == CURLE_RECV_ERROR) {
    *kind = HttpError::kNoAnswer;
    *error = "recv: " + detail;
  } else {
    *kind = HttpError::kIo;
    *error = detail;
  }
}

}  // namespace

bool ParseAdminUrl(const std::string& url, HttpTarget* target, std::string* error) {
  *target = HttpTarget{};
  if (url.rfind("unix:", 0) == 0) {
    target->unix_path = url.substr(5);
    if (target->unix_path.empty() || target->unix_path[0] != '/') {
      *error = "admin URL '" + url + "': unix socket path must be absolute (unix:/path)";
      return false;
    }
    return true;
  }
  CurlUrl parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    *error = "admin URL '" + url + "' is not an http:// URL";
    return false;
  }
  std::string scheme = UrlPart(parsed.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") {
    *error = "admin URL '" + url + "': only http://, https:// or unix:/path are supported";
    return false;
  }
  target->tls = scheme == "https";
  target->host = UrlPart(parsed.get(), CURLUPART_HOST);
  if (target->host.size() > 2 && target->host.front() == '[' && target->host.back() == ']') {
    target->host = target->host.substr(1, target->host.size() - 2);
    std::string zone = UrlPart(parsed.get(), CURLUPART_ZONEID);
    if (!zone.empty()) target->host += "%" + zone;
  }
  std::string port = UrlPart(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  target->port = static_cast<uint16_t>(port.empty() ? (target->tls ? 443 : 80) : std::stoi(port));
  target->base_path = UrlPart(parsed.get(), CURLUPART_PATH);
  while (!target->base_path.empty() && target->base_path.back() == '/') {
    target->base_path.pop_back();
  }
  return true;
}

bool SendRequest(const HttpTarget& target, const HttpRequestSpec& spec, HttpResponse* response,
                 HttpError* kind, std::string* error) {
  *response = HttpResponse{};
  *kind = HttpError::kNone;
  if (spec.bearer_token) {
    for (char c : *spec.bearer_token) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {  // would end the Authorization header: send nothing
        *kind = HttpError::kProtocol;
        *error = "the token holds a control character; nothing was sent";
        return false;
      }
    }
  }
  if (!GlobalInitOnce()) {
    *kind = HttpError::kConnect;
    *error = "cannot initialise libcurl";
    return false;
  }
  CurlEasy curl(curl_easy_init());
  if (!curl) {
    *kind = HttpError::kConnect;
    *error = "cannot create a libcurl handle";
    return false;
  }
  std::string url = RequestUrl(target, spec.path_and_query);
  CurlSlist headers = RequestHeaders(spec);
  Transfer transfer{response};
  char error_buffer[CURL_ERROR_SIZE] = {};
  Configure(curl.get(), target, spec, url, headers.get(), &transfer, error_buffer);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    Classify(curl.get(), rc, transfer, target, error_buffer, kind, error);
    return false;
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  response->status = static_cast<int>(status);
  return true;
}

}  // namespace tidegate::ctl
