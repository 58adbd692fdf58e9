#pragma once

// Errors inside kam are absl::Status / absl::StatusOr. They become gRPC status codes only at the
// service edge (common/grpc_status.h), so logic classes stay free of gRPC.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KAM_STATUS_CONCAT_INNER_(a, b) a##b
#define KAM_STATUS_CONCAT_(a, b) KAM_STATUS_CONCAT_INNER_(a, b)

#define KAM_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status kam_status_ = (expr);       \
    if (!kam_status_.ok()) return kam_status_; \
  } while (0)

#define KAM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(*tmp)

#define KAM_ASSIGN_OR_RETURN(lhs, expr) \
  KAM_ASSIGN_OR_RETURN_IMPL_(KAM_STATUS_CONCAT_(kam_statusor_, __LINE__), lhs, expr)
