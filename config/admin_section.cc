// [admin] and [secrets]: who may drive tidegate, and the keys that sign
// visitors' cookies.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <map>
#include <set>

#include "config/address_list.h"
#include "config/file_checks.h"
#include "config/secret_file.h"
#include "config/sections.h"

namespace tidegate::config {
namespace {

constexpr size_t kMinSecretBytes = 32;

bool IsSha256Hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) or a unix socket: traffic that
// never leaves the host.
bool IsLoopbackListen(const Address& address) {
  if (!address.unix_path.empty()) return true;
  std::string host = address.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

// [admin.tls] cert = PATH, key = PATH (both required, both readable).
void ReadAdminTls(const toml::table* table, Diagnostics* diagnostics, AdminConfig* out) {
  TableReader tls(table, "admin.tls", diagnostics);
  TlsCertificate certificate;
  bool complete = true;
  for (auto [key, field] : {std::pair<const char*, std::string*>{"cert", &certificate.cert_file},
                            {"key", &certificate.key_file}}) {
    if (!tls.Require(key) || !tls.ReadString(key, field)) {
      complete = false;
      continue;
    }
    const toml::node& node = *table->get(key);
    if (field->empty()) {
      tls.Error(node, key, "expected a file path");
      complete = false;
      continue;
    }
    *field = ResolvePath(FolderOf(node), *field);
    std::string problem = CheckReadableFile(*field);
    if (!problem.empty()) {
      tls.Error(node, key, problem);
      complete = false;
    }
  }
  tls.ReportUnknownKeys();
  if (!out->listen.unix_path.empty()) {
    diagnostics->Add(*table, "admin.tls",
                     "TLS needs an IP listen address; admin.listen is a unix socket (" +
                         out->listen.text + "), which file permissions already protect");
    return;
  }
  if (complete) out->tls = std::move(certificate);
}

// [admin].allowed_hosts: host names (or IP literals) without a port.
void ReadAllowedHosts(TableReader& admin, Diagnostics* diagnostics, AdminConfig* out) {
  const toml::array* array = admin.ReadArray("allowed_hosts");
  if (!array) return;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string path = admin.KeyPath("allowed_hosts") + "[" + std::to_string(i) + "]";
    const auto* text = element.as_string();
    if (!text) {
      diagnostics->Add(
          element, path,
          "expected a host name such as \"admin.shop.internal\", got " + TypeName(element));
      continue;
    }
    std::string error;
    std::optional<std::string> name = ParseHostWithoutPort(text->get(), false, &error);
    if (!name) {
      diagnostics->Add(element, path, error + "; IP literals and localhost are always allowed");
      continue;
    }
    out->allowed_hosts.push_back(std::move(*name));
  }
}

// Two [admin].tokens entries with one hash (case-insensitive): the token
// would get the first entry's name and role, silently (audit 10 F5: a viewer
// entry first and the operator gets 403; the reverse and a viewer token can
// change things). Reported at the second entry, naming the first.
void CheckDistinctTokenHashes(const toml::table* admin, Diagnostics* diagnostics) {
  const toml::array* tokens = admin != nullptr ? admin->get_as<toml::array>("tokens") : nullptr;
  if (tokens == nullptr) return;
  std::map<std::string, std::string> first_at;  // lower-case hash -> "file:line:col"
  for (size_t i = 0; i < tokens->size(); ++i) {
    const toml::table* entry = tokens->get(i)->as_table();
    const toml::node* hash = entry != nullptr ? entry->get("token_sha256") : nullptr;
    if (hash == nullptr || !hash->is_string() || !IsSha256Hex(**hash->as_string())) continue;
    auto [it, fresh] = first_at.emplace(Lower(**hash->as_string()), Where(hash->source()));
    if (fresh) continue;
    diagnostics->Add(*hash, "admin.tokens[" + std::to_string(i) + "].token_sha256",
                     "the same hash as the token at " + it->second +
                         ": the token would get only the first entry's name and role; give "
                         "each entry its own token");
  }
}

}  // namespace

void ReadAdminSection(const toml::table* table, Diagnostics* diagnostics, AdminConfig* out) {
  out->listen = Address{"127.0.0.1", 9901, "", "127.0.0.1:9901"};
  TableReader admin(table, "admin", diagnostics);
  if (std::optional<Address> listen =
          ReadAddress(admin, "listen", {.allow_unix = true, .allow_port_zero = true})) {
    out->listen = std::move(*listen);
  }
  std::set<std::string> names;
  ForEachTable(admin, "tokens", diagnostics,
               "{ name = \"...\", token_sha256 = \"<64 hex>\", role = \"viewer|operator\" }",
               [&](TableReader& entry, const toml::table& t) {
                 AdminToken token;
                 if (entry.Require("name") && entry.ReadString("name", &token.name)) {
                   if (!IsValidName(token.name)) {
                     entry.Error(*t.get("name"), "name",
                                 "\"" + token.name + "\": use 1-64 letters, digits, '_' or '-'");
                   } else if (!names.insert(token.name).second) {
                     entry.Error(*t.get("name"), "name",
                                 "\"" + token.name + "\" is used by another token");
                   }
                 }
                 if (entry.Require("token_sha256") &&
                     entry.ReadString("token_sha256", &token.token_sha256)) {
                   if (!IsSha256Hex(token.token_sha256)) {
                     entry.Error(*t.get("token_sha256"), "token_sha256",
                                 "expected 64 hexadecimal characters (sha256sum of the token)");
                   }
                   token.token_sha256 = Lower(token.token_sha256);
                 }
                 if (entry.Require("role")) {
                   entry.ReadEnum<AdminRole>(
                       "role", {{"viewer", AdminRole::kViewer}, {"operator", AdminRole::kOperator}},
                       &token.role);
                 }
                 out->tokens.push_back(std::move(token));
               });
  CheckDistinctTokenHashes(table, diagnostics);
  if (admin.ReadString("audit_log", &out->audit_log)) {
    const toml::node& node = *table->get("audit_log");
    if (out->audit_log.empty() || out->audit_log.back() == '/') {
      admin.Error(node, "audit_log", "expected a file path, e.g. \"audit.log\"");
      out->audit_log.clear();
    } else {
      out->audit_log = ResolvePath(FolderOf(node), out->audit_log);
    }
  }
  admin.ReadBool("metrics_open_on_loopback", &out->metrics_open_on_loopback);
  admin.ReadBool("allow_plaintext", &out->allow_plaintext);
  ReadAllowedHosts(admin, diagnostics, out);
  const toml::table* tls = admin.ReadTable("tls");
  if (tls) ReadAdminTls(tls, diagnostics, out);
  // Bearer tokens must not cross the network in clear (issue 14).
  const toml::node* listen_node = table ? table->get("listen") : nullptr;
  if (listen_node && !tls && !out->allow_plaintext && !IsLoopbackListen(out->listen)) {
    admin.Error(*listen_node, "listen",
                "\"" + out->listen.text +
                    "\" is not a loopback address: without [admin.tls] the admin bearer tokens "
                    "would cross the network in clear; add [admin.tls] cert/key, listen on "
                    "127.0.0.1, ::1 or unix:/path, or set [admin] allow_plaintext = true if TLS "
                    "is terminated on this host");
  }
  admin.ReportUnknownKeys();
}

void ReadSecretsSection(const toml::table* table, Diagnostics* diagnostics, SecretsConfig* out) {
  TableReader secrets(table, "secrets", diagnostics);
  std::set<std::string> ids;
  ForEachTable(
      secrets, "token_keys", diagnostics, "{ id = \"...\", secret_file = \"...\" }",
      [&](TableReader& entry, const toml::table& t) {
        TokenKey key;
        if (entry.Require("id") && entry.ReadString("id", &key.id)) {
          if (!IsValidName(key.id)) {
            entry.Error(*t.get("id"), "id",
                        "\"" + key.id + "\": use 1-64 letters, digits, '_' or '-'");
          } else if (!ids.insert(key.id).second) {
            entry.Error(*t.get("id"), "id", "\"" + key.id + "\" is used by another key");
          }
        }
        if (entry.Require("secret_file") && entry.ReadString("secret_file", &key.secret_file)) {
          const toml::node& node = *t.get("secret_file");
          key.secret_file = ResolvePath(FolderOf(node), key.secret_file);
          std::string error;
          std::optional<std::string> secret = ReadSecretFile(key.secret_file, &error);
          if (!secret) {
            entry.Error(node, "secret_file", error);
          } else {
            if (secret->size() < kMinSecretBytes) {
              entry.Error(node, "secret_file",
                          "\"" + key.secret_file + "\" holds " + std::to_string(secret->size()) +
                              " bytes; a key needs at least 32 (e.g. `head -c 32 "
                              "/dev/urandom | base64 > FILE`)");
            }
            key.secret = std::move(*secret);
          }
        }
        out->token_keys.push_back(std::move(key));
      });
  secrets.ReportUnknownKeys();
}

}  // namespace tidegate::config
