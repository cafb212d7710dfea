#include "tests/integration/harness/test_certs.h"

#include <chrono>

#include "tests/integration/harness/process.h"

namespace tidegate::itest {

bool MakeCertificate(const TempDir& dir, const std::string& stem, const std::string& common_name,
                     const std::vector<std::string>& dns_names, CertFiles* out,
                     std::string* error) {
  out->cert = dir.File(stem + ".pem");
  out->key = dir.File(stem + ".key");
  std::string san = "subjectAltName=";
  for (size_t i = 0; i < dns_names.size(); ++i) {
    if (i > 0) san += ",";
    san += "DNS:" + dns_names[i];
  }
  ProcessOptions po;
  po.argv = {"openssl",
             "req",
             "-x509",
             "-newkey",
             "ec",
             "-pkeyopt",
             "ec_paramgen_curve:prime256v1",
             "-nodes",
             "-days",
             "2",
             "-subj",
             "/CN=" + common_name,
             "-keyout",
             out->key,
             "-out",
             out->cert};
  if (!dns_names.empty()) {
    po.argv.push_back("-addext");
    po.argv.push_back(san);
  }
  po.log_dir = dir.path();
  po.name = "openssl-" + stem;
  auto proc = Process::Start(po, error);
  if (!proc) return false;
  auto status = proc->WaitExit(std::chrono::seconds(30));
  if (!status || *status != 0) {
    *error = "openssl req failed: " + proc->Stderr();
    return false;
  }
  return true;
}

}  // namespace tidegate::itest
