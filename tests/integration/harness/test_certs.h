// Self-signed test certificates generated at test time with the openssl
// command-line tool (run through Process, no shell).
//
// Contract: MakeCertificate() writes <stem>.pem and <stem>.key (EC P-256,
// valid 2 days) into `dir`, subject CN = common_name, subjectAltName =
// DNS:<each of dns_names>. Returns false and sets *error (with openssl's
// stderr) on failure. Test thread only.
#pragma once

#include <string>
#include <vector>

#include "tests/integration/harness/temp_dir.h"

namespace tidegate::itest {

struct CertFiles {
  std::string cert;  // PEM certificate path
  std::string key;   // PEM private key path
};

bool MakeCertificate(const TempDir& dir, const std::string& stem, const std::string& common_name,
                     const std::vector<std::string>& dns_names, CertFiles* out, std::string* error);

}  // namespace tidegate::itest
