#include "tests/integration/harness/admin_metrics.h"

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"

namespace tidegate::itest {

std::optional<double> ReadMetric(uint16_t admin_port, const std::string& sample) {
  auto conn = ConnectOrFail(admin_port);
  if (!conn ||
      !conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) {
    return std::nullopt;
  }
  HttpMessage m = ReadResponse(*conn);
  if (!m.ok || m.status != 200) return std::nullopt;
  const std::string key = "\n" + sample + " ";
  size_t at = m.body.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(m.body.substr(at + key.size()));
}

}  // namespace tidegate::itest
