#pragma once

// The one place absl::Status becomes grpc::Status. Codes map one to one (both follow
// google.rpc.Code); messages pass through, so a person sees which field was wrong, and the
// google.rpc.Status with its details (common/error_details.h) goes in grpc-status-details-bin,
// so a program does too.

#include <grpcpp/support/status.h>

#include "common/error_details.h"
#include "common/status.h"

namespace kam {

// The ErrorInfo reason of a status received from another kam instance (forwarded calls): the
// one in its details, else its code's name.
inline std::string ReasonOf(const grpc::Status& status) {
  if (status.ok()) return "";
  google::rpc::Status rich;
  google::rpc::ErrorInfo info;
  if (rich.ParseFromString(status.error_details())) {
    for (const auto& any : rich.details()) {
      if (any.UnpackTo(&info)) return info.reason();
    }
  }
  return errors::ReasonOf(absl::Status(static_cast<absl::StatusCode>(status.error_code()), "x"));
}

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      errors::ToRpcStatus(status).SerializeAsString());
}

}  // namespace kam
