// The audit log: one JSON line per applied run-time change.
//
// Record: {"time": RFC 3339 UTC with ms, "token": token name, "client":
// client address, "method": "PUT", "route": "/v1/banner", "before": …,
// "after": …}. `before`/`after` are the JSON of the object changed (null when
// it did not exist / was cleared).
//
// Contract:
// * Control thread only (not thread-safe). Append() writes the whole line
//   with write(2) on an O_APPEND descriptor and fsync(2)s it before
//   returning: the admin API acknowledges a change only after Append()
//   returned true. One fsync of one short line is acceptable on the control
//   thread; it is never on a worker.
// * Only applied changes are recorded; the caller never appends refused or
//   no-op requests.
// * Default path: "audit.log" in the folder of the configuration (the lead
//   passes it; `[admin].audit_log` is planned in config).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"

namespace tidegate::admin {

struct AuditRecord {
  common::TimePoint time;
  std::string token_name;
  std::string client;  // "127.0.0.1:53211"
  std::string method;
  std::string route;  // the request path, e.g. "/v1/features/checkout/maintenance"
  nlohmann::json before;
  nlohmann::json after;
};

nlohmann::json ToJson(const AuditRecord& record);

class AuditLog {
 public:
  // Opens (creating with mode 0600 if needed) `path` for appending. nullptr
  // and *error set ("audit log 'path': <strerror>") on failure.
  static std::unique_ptr<AuditLog> Open(const std::string& path, std::string* error);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Writes and fsyncs one line. False and *error set when the line could not
  // be written completely or fsync failed.
  bool Append(const AuditRecord& record, std::string* error);

  // The last `limit` records, oldest first (newest last). Lines that are not
  // valid JSON (a torn write after a crash) are skipped. Reads the file from
  // its end, so cost grows with `limit`, not with the file size.
  bool ReadLast(size_t limit, std::vector<nlohmann::json>* out, std::string* error) const;

  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace tidegate::admin
