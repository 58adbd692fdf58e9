#pragma once

// Per-call roles on a kam gRPC server: an AuthMetadataProcessor that decides every call from its
// `authorization: Bearer <token>` header and the --auth-file (common/access_policy.h) before gRPC
// runs a handler. A refused call ends with UNAUTHENTICATED (no or unknown token) or
// PERMISSION_DENIED (a known caller without the method's role), counted in
// kam_grpc_requests_total and kam_auth_refusals_total, and logged with the caller's name and
// peer, never the token. Health checks and reflection stay open for probes.
//
// gRPC runs processors on TLS servers only, which suits tokens: a bearer token sent in
// plaintext is anybody's token. ServiceHost therefore refuses --auth-file without --tls-cert.

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <memory>

#include "common/auth_file.h"
#include "common/metrics.h"
#include "common/rpc_metrics.h"

namespace kam::auth {

class CallGuard : public grpc::AuthMetadataProcessor {
 public:
  // `tokens` and the metrics outlive the guard (ServiceHost owns all three).
  CallGuard(const AuthFile* tokens, MetricsRegistry* metrics, RpcMetrics* rpc_metrics);

  // A map lookup and a SHA-256 of a short token: decided on gRPC's own thread.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const AuthFile* tokens_;
  RpcMetrics* rpc_metrics_;
  Counter* unauthenticated_;
  Counter* permission_denied_;
};

}  // namespace kam::auth
