#pragma once

// Which PEM files a service or kamctl was given for TLS, and the checks that need no gRPC (the
// credentials themselves are made in grpc_tls.h).

#include <arpa/inet.h>

#include <string>

#include "absl/status/status.h"

namespace kam {

struct TlsFiles {
  std::string cert;       // --tls-cert: this side's certificate chain
  std::string key;        // --tls-key: its private key
  std::string client_ca;  // --tls-client-ca: servers require client certificates signed by it
  std::string ca;         // --tls-ca: clients verify the server's certificate against it
  bool enabled() const { return !cert.empty(); }
};

// INVALID_ARGUMENT naming the flag for an incomplete combination (a key without a certificate, a
// client CA without a certificate).
inline absl::Status CheckTlsFiles(const TlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert, --tls-key: give both or neither");
  }
  if (!files.client_ca.empty() && files.cert.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca: needs --tls-cert and --tls-key");
  }
  return absl::OkStatus();
}

// Whether `host` (of a listen address) is loopback: plaintext is fine there. Names other than
// "localhost" are not trusted to be (127.example.com is not loopback).
inline bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 &&
         (ntohl(address.s_addr) >> 24) == 127;
}

}  // namespace kam
