#pragma once

// gRPC over TLS for kam's servers, the calls instances forward to each other, and kamctl. Files
// are PEM; a missing or unreadable file is an error naming its flag. No files: plaintext (for
// development on loopback; the services refuse plaintext on other addresses unless told).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "common/tls_files.h"

namespace kam {

// TLS when files.cert is set (mutual TLS with files.client_ca), plaintext otherwise.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsFiles& files);

// TLS when any file is given: verified against files.ca (the system's roots without it),
// presenting files.cert/key when given (mutual TLS); plaintext when none is.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const TlsFiles& files);

}  // namespace kam
