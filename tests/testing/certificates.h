#pragma once

// Certificates for tests of TLS, made with the openssl command line in a test's temp dir.

#include <string>

namespace kam::testing {

// Writes ca.pem/ca.key (a CA), server.pem/server.key (for 127.0.0.1 and localhost) and
// client.pem/client.key (CN=crm-platform), both signed by the CA, into `dir`. Returns false when
// openssl failed.
bool MakeCertificates(const std::string& dir);

// The file's contents ("" when unreadable).
std::string ReadFile(const std::string& path);

}  // namespace kam::testing
