#pragma once

// Errors a program can act on without parsing English: the standard google.rpc error details
// (https://google.aip.dev/193) that kam sends beside each status message, in the gRPC trailer
// grpc-status-details-bin. Logic attaches them to an absl::Status as payloads keyed by the
// detail's type URL, so it stays free of gRPC; ToRpcStatus collects them at the edge
// (common/grpc_status.h). Every error leaving kam carries an ErrorInfo whose `reason` is stable
// across releases (docs/ERRORS.md lists them); UNAVAILABLE and RESOURCE_EXHAUSTED carry a
// RetryInfo.

#include <map>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace kam::errors {

// ErrorInfo.domain of every kam error.
inline constexpr char kDomain[] = "kam.v1";

// Stable reasons (ErrorInfo.reason). An error without one of these gets its code's name.
inline constexpr char kInvalidField[] = "INVALID_FIELD";
inline constexpr char kEtagMismatch[] = "ETAG_MISMATCH";
inline constexpr char kUnparseableRequest[] = "UNPARSEABLE_REQUEST";

// `status` with an ErrorInfo of `reason` (replacing an earlier one) and `metadata`.
absl::Status WithReason(absl::Status status, std::string_view reason,
                        const std::map<std::string, std::string>& metadata = {});

// `status` with one more BadRequest field violation.
absl::Status WithFieldViolation(absl::Status status, std::string_view field,
                                std::string_view description);

// `status` with one more PreconditionFailure violation: `type` names the kind of precondition
// ("ETAG", "ACCOUNT_STATE", ...), `subject` what failed it ("accounts/a-123").
absl::Status WithPreconditionViolation(absl::Status status, std::string_view type,
                                       std::string_view subject, std::string_view description);

// `status` with a ResourceInfo: `type` as in kam.v1 ("kam.v1.Account"), `name` the id asked for.
absl::Status WithResourceInfo(absl::Status status, std::string_view type, std::string_view name,
                              std::string_view description);

// `status` with a RetryInfo asking the caller to wait `delay` before trying again.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// INVALID_ARGUMENT "<field>: <problem>" with its field violation and reason INVALID_FIELD.
absl::Status InvalidField(std::string_view field, std::string_view problem);

// NOT_FOUND `message` with a ResourceInfo and reason "<RESOURCE>_NOT_FOUND" (e.g.
// ACCOUNT_NOT_FOUND for resource "Account"; the ResourceInfo type is "kam.v1.Account").
absl::Status NotFound(std::string_view resource, std::string_view name, std::string_view message);

// ABORTED `message`: the etag the caller sent is not the resource's current one (reason
// ETAG_MISMATCH, a PreconditionFailure of type ETAG on `subject`). Read again and retry.
absl::Status EtagMismatch(std::string_view subject, std::string_view message);

// FAILED_PRECONDITION `message` with `reason` and a PreconditionFailure (`type`, `subject`).
absl::Status FailedPrecondition(std::string_view reason, std::string_view type,
                                std::string_view subject, std::string_view message);

// Collects every bad field of a request instead of stopping at the first: each check's
// INVALID_ARGUMENT adds its violations; any other error is kept as it is and wins.
class FieldViolations {
 public:
  // Adds `check`'s violations; returns whether it was OK.
  bool Add(const absl::Status& check);
  bool empty() const { return other_.ok() && count_ == 0; }
  // OK, the first non-INVALID_ARGUMENT error, or INVALID_ARGUMENT listing the violations: the
  // first three in the message ("field: problem; ..."), the first 20 in one BadRequest
  // (descriptions cut at 200 bytes: the details travel in a trailer that clients cap), reason
  // INVALID_FIELD with the total in ErrorInfo.metadata["violations"].
  absl::Status status() const;

 private:
  static constexpr int kMaxViolations = 20;        // in the BadRequest
  static constexpr int kMaxMessageViolations = 3;  // spelled out in the message
  static constexpr size_t kMaxDescriptionBytes = 200;

  absl::Status other_;
  std::string message_;
  google::rpc::BadRequest bad_request_;
  int count_ = 0;
};

// The absl::Status a google.rpc.Status describes, with its details attached again: for errors
// that travel between kam's own processes (the result of an alert command applied by another
// instance). ToRpcStatus(FromRpcStatus(rpc)) gives `rpc` back.
absl::Status FromRpcStatus(const google::rpc::Status& rpc);

// The ErrorInfo reason ToRpcStatus sends for `status` (empty for OK).
std::string ReasonOf(const absl::Status& status);

// The google.rpc.Status for `status`: its code and message, its details, an ErrorInfo (domain
// kDomain; reason the attached one, else the code's name) and, for UNAVAILABLE and
// RESOURCE_EXHAUSTED, a RetryInfo (1 s unless one was attached).
google::rpc::Status ToRpcStatus(const absl::Status& status);

}  // namespace kam::errors
