#pragma once

// The one place absl::Status becomes grpc::Status. Codes map one to one (both follow
// google.rpc.Code); messages pass through, so a client sees which field was wrong.

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace kam {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace kam
