#include "proxy/error_pages.h"

#include <nlohmann/json.hpp>

#include "pages/html_escape.h"
#include "proxy/http_message.h"

namespace tidegate::proxy {
namespace {

std::string_view EnglishDetail(int status) {
  switch (status) {
    case 400:
      return "The request could not be understood.";
    case 404:
      return "There is nothing here.";
    case 405:
      return "This address does not accept this kind of request.";
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

std::string_view FrenchDetail(int status) {
  switch (status) {
    case 400:
      return "La requête n’a pas pu être comprise.";
    case 404:
      return "Il n’y a rien à cette adresse.";
    case 405:
      return "Cette adresse n’accepte pas ce type de requête.";
    case 408:
      return "La requête a mis trop de temps à arriver.";
    case 413:
      return "Le contenu envoyé est trop volumineux.";
    case 414:
      return "L’adresse demandée est trop longue.";
    case 431:
      return "Les en-têtes de la requête sont trop volumineux.";
    case 501:
      return "Cette requête n’est pas prise en charge.";
    case 502:
      return "La boutique n’a pas pu être jointe. Veuillez réessayer dans un instant.";
    case 503:
      return "Ce service est momentanément indisponible.";
    case 504:
      return "La boutique a mis trop de temps à répondre. Veuillez réessayer dans un instant.";
    default:
      return "La requête n’a pas pu aboutir.";
  }
}

std::string_view DefaultDetail(int status, pages::Language language) {
  return language == pages::Language::kFrench ? FrenchDetail(status) : EnglishDetail(status);
}

}  // namespace

ErrorPage MakeErrorPage(int status, bool json, const ErrorPageOptions& options) {
  std::string_view reason = ReasonPhrase(status);
  if (reason.empty()) reason = "Error";
  ErrorPage page;
  if (json) {
    std::string_view detail = options.detail.empty() ? EnglishDetail(status) : options.detail;
    page.content_type = "application/json";
    nlohmann::json body = {{"error", std::string(reason)},
                           {"status", status},
                           {"detail", std::string(detail)},
                           {"status_page", std::string(options.status_link)}};
    page.body = body.dump();
    page.body.push_back('\n');
    return page;
  }
  std::string_view detail =
      options.detail.empty() ? DefaultDetail(status, options.language) : options.detail;
  bool french = options.language == pages::Language::kFrench;
  page.content_type = "text/html; charset=utf-8";
  std::string& out = page.body;
  out.reserve(512 + options.after_body_open.size());
  out += "<!DOCTYPE html>\n<html lang=\"";
  out += pages::LanguageCode(options.language);
  out +=
      "\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>";
  out += std::to_string(status);
  out.push_back(' ');
  pages::AppendEscapedHtml(reason, &out);
  out += "</title></head>\n<body>";
  out += options.after_body_open;
  out += "<h1>";
  if (french) {
    out += "Erreur ";
    out += std::to_string(status);
  } else {
    pages::AppendEscapedHtml(reason, &out);
  }
  out += "</h1>\n<p>";
  pages::AppendEscapedHtml(detail, &out);
  out += "</p>\n<p><a href=\"";
  pages::AppendEscapedHtml(options.status_link, &out);
  out += "\">";
  pages::AppendEscapedHtml(pages::StatusLinkLabel(options.language), &out);
  out += "</a></p>\n</body></html>\n";
  return page;
}

}  // namespace tidegate::proxy
