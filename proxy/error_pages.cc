#include "proxy/error_pages.h"

#include <nlohmann/json.hpp>

#include "pages/html_escape.h"
#include "proxy/http_message.h"

namespace tidegate::proxy {
namespace {

std::string_view DefaultDetail(int status) {
  switch (status) {
    case 400:
      return "The request could not be understood.";
    case 404:
      return "There is nothing here.";
    case 408:
      return "The request took too long to arrive.";
    case 413:
      return "The request body is too large.";
    case 414:
      return "The request target is too long.";
    case 431:
      return "The request headers are too large.";
    case 501:
      return "This request is not supported.";
    case 502:
      return "The shop could not be reached. Please try again in a moment.";
    case 503:
      return "This service is temporarily unavailable.";
    case 504:
      return "The shop took too long to answer. Please try again in a moment.";
    default:
      return "The request could not be completed.";
  }
}

}  // namespace

ErrorPage MakeErrorPage(int status, bool json, std::string_view detail,
                        std::string_view after_body_open) {
  if (detail.empty()) detail = DefaultDetail(status);
  std::string_view reason = ReasonPhrase(status);
  if (reason.empty()) reason = "Error";
  ErrorPage page;
  if (json) {
    page.content_type = "application/json";
    nlohmann::json body = {{"error", std::string(reason)},
                           {"status", status},
                           {"detail", std::string(detail)},
                           {"status_page", "/.tidegate/status"}};
    page.body = body.dump();
    page.body.push_back('\n');
    return page;
  }
  page.content_type = "text/html; charset=utf-8";
  std::string& out = page.body;
  out.reserve(512 + after_body_open.size());
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>";
  out += std::to_string(status);
  out.push_back(' ');
  pages::AppendEscapedHtml(reason, &out);
  out += "</title></head>\n<body>";
  out += after_body_open;
  out += "<h1>";
  pages::AppendEscapedHtml(reason, &out);
  out += "</h1>\n<p>";
  pages::AppendEscapedHtml(detail, &out);
  out += "</p>\n<p><a href=\"/.tidegate/status\">Service status</a></p>\n</body></html>\n";
  return page;
}

}  // namespace tidegate::proxy
