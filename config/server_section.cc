// [server] and [server.tls].
#include <string_view>

#include "common/ascii.h"
#include "config/address_list.h"
#include "config/file_checks.h"
#include "config/sections.h"
#include "config/table_reader.h"
#include "config/value_parsers.h"

namespace tidegate::config {
namespace {

constexpr Duration kOneHour{3'600'000};

void ReadCertificates(TableReader& tls, Diagnostics* diagnostics, TlsConfig* out) {
  const toml::array* array = tls.ReadArray("certificates");
  if (!array) return;
  if (array->empty()) {
    tls.Error(*array, "certificates", "needs at least one { cert = ..., key = ... }");
    return;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string path = tls.KeyPath("certificates") + "[" + std::to_string(i) + "]";
    const toml::table* table = element.as_table();
    if (!table) {
      diagnostics->Add(
          element, path,
          "expected a table { cert = \"...\", key = \"...\" }, got " + TypeName(element));
      continue;
    }
    TableReader entry(table, path, diagnostics);
    TlsCertificate certificate;
    for (auto [key, field] : {std::pair<const char*, std::string*>{"cert", &certificate.cert_file},
                              {"key", &certificate.key_file}}) {
      if (!entry.Require(key)) continue;
      if (!entry.ReadString(key, field)) continue;
      const toml::node& node = *table->get(key);
      *field = ResolvePath(FolderOf(node), *field);
      std::string problem = CheckReadableFile(*field);
      if (!problem.empty()) entry.Error(node, key, problem);
    }
    entry.ReportUnknownKeys();
    out->certificates.push_back(std::move(certificate));
  }
}

// Fields that are hop-by-hop themselves (or framing): protecting them from
// `Connection` would mean nothing, so naming one is a mistake.
constexpr std::string_view kNotTrustable[] = {"connection", "keep-alive",     "proxy-connection",
                                              "te",         "trailer",        "upgrade",
                                              "host",       "content-length", "transfer-encoding"};

void ReadTrustedHeaders(TableReader& server, Diagnostics* diagnostics, ServerConfig* out) {
  const toml::array* array = server.ReadArray("trusted_headers");
  if (!array) return;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string path = server.KeyPath("trusted_headers") + "[" + std::to_string(i) + "]";
    const auto* text = element.as_string();
    if (!text) {
      diagnostics->Add(
          element, path,
          "expected a header field name such as \"X-Client-Cert\", got " + TypeName(element));
      continue;
    }
    std::string name = text->get();
    for (char& c : name) c = common::AsciiLower(c);
    if (!IsHttpToken(name)) {
      diagnostics->Add(element, path, "\"" + text->get() + "\" is not a header field name");
      continue;
    }
    if (name == "x-forwarded-proto") {
      // proxy/forwarding_headers.cc sets it from the client's connection.
      diagnostics->Add(element, path,
                       "\"" + text->get() +
                           "\" is always set by tidegate (\"http\" or \"https\" of the client's "
                           "connection to tidegate, or what a front of "
                           "[server].trusted_proxies reported); list the front in "
                           "trusted_proxies instead");
      continue;
    }
    bool refused = false;
    for (std::string_view bad : kNotTrustable) refused |= name == bad;
    if (refused) {
      diagnostics->Add(
          element, path,
          "\"" + text->get() + "\" is a hop-by-hop or framing field; tidegate handles it itself");
      continue;
    }
    out->trusted_headers.push_back(std::move(name));
  }
}

void ReadTrustedProxies(TableReader& server, const toml::table* table, Diagnostics* diagnostics,
                        ServerConfig* out) {
  ReadNetworkList(server, "trusted_proxies", diagnostics, &out->trusted_proxies);
  std::string field;
  if (!server.ReadString("client_ip_header", &field)) return;
  const toml::node& node = *table->get("client_ip_header");
  std::string name = field;
  for (char& c : name) c = common::AsciiLower(c);
  bool refused = !IsHttpToken(name) || name == "x-forwarded-proto";
  for (std::string_view bad : kNotTrustable) refused |= name == bad;
  if (refused) {
    server.Error(node, "client_ip_header",
                 "\"" + field +
                     "\" cannot carry the client's address; use the field your front sets, "
                     "such as \"X-Forwarded-For\", \"Forwarded\", \"X-Real-IP\" or "
                     "\"CF-Connecting-IP\"");
    return;
  }
  out->client_ip_header = std::move(name);
}

void ReadTls(const toml::table* table, Diagnostics* diagnostics, ServerConfig* out) {
  TableReader tls(table, "server.tls", diagnostics);
  TlsConfig config;
  if (tls.Require("listen")) {
    ReadAddressList(tls, "listen", {.allow_unix = false}, diagnostics, &config.listen);
    if (const toml::node* node = table->get("listen");
        node->is_array() && node->as_array()->empty()) {
      tls.Error(*node, "listen", "needs at least one address");
    }
  }
  if (tls.Require("certificates")) ReadCertificates(tls, diagnostics, &config);
  tls.ReportUnknownKeys();
  out->tls = std::move(config);
}

}  // namespace

void ReadServerSection(const toml::table* table, Diagnostics* diagnostics, ServerConfig* out) {
  TableReader server(table, "server", diagnostics);
  const toml::table* tls = server.ReadTable("tls");
  if (tls) ReadTls(tls, diagnostics, out);

  // Plain listeners are optional only for a TLS-only proxy.
  if (tls == nullptr || server.Take("listen") != nullptr) {
    if (server.Require("listen")) {
      ReadAddressList(server, "listen", {.allow_unix = false}, diagnostics, &out->listen);
      if (const toml::node* node = table->get("listen");
          node->is_array() && node->as_array()->empty() && tls == nullptr) {
        server.Error(*node, "listen", "needs at least one address");
      }
    }
  }
  server.ReadInt("workers", 0, 1024, &out->workers);

  server.ReadInt("max_connections", 1, 10'000'000, &out->max_connections);
  uint64_t size = 0;
  if (server.ReadSize("max_request_line", 256, 1 << 20, &size)) out->max_request_line = size;
  if (server.ReadSize("max_header_bytes", 1024, 1 << 20, &size)) out->max_header_bytes = size;
  server.ReadInt("max_headers", 1, 10'000, &out->max_headers);
  server.ReadSize("max_body_bytes", 0, uint64_t{1} << 40, &out->max_body_bytes);

  server.ReadDuration("header_timeout", Duration(100), kOneHour, &out->header_timeout);
  server.ReadDuration("body_timeout", Duration(100), kOneHour, &out->body_timeout);
  server.ReadSize("body_min_rate", 0, uint64_t{1} << 30, &out->body_min_rate);
  server.ReadDuration("keepalive_timeout", Duration(100), kOneHour, &out->keepalive_timeout);
  server.ReadDuration("send_timeout", Duration(100), kOneHour, &out->send_timeout);
  server.ReadDuration("drain_timeout", Duration(0), kOneHour, &out->drain_timeout);

  for (auto [key, field] : {std::pair<const char*, std::string*>{"access_log", &out->access_log},
                            {"error_log", &out->error_log}}) {
    if (!server.ReadString(key, field)) continue;
    if (!field->empty() && *field != "-") {
      *field = ResolvePath(FolderOf(*table->get(key)), *field);
    }
  }
  if (table != nullptr && table->contains("error_log") && out->error_log.empty()) {
    server.Error(*table->get("error_log"), "error_log", "must not be empty; \"-\" means stderr");
  }
  server.ReadEnum<std::string>(
      "log_level", {{"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}},
      &out->log_level);
  ReadTrustedHeaders(server, diagnostics, out);
  ReadTrustedProxies(server, table, diagnostics, out);
  server.ReportUnknownKeys();
}

}  // namespace tidegate::config
