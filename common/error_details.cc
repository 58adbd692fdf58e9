#include "common/error_details.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kam::errors {
namespace {

constexpr char kTypePrefix[] = "type.googleapis.com/";

template <typename Detail>
std::string TypeUrl() {
  return absl::StrCat(kTypePrefix, Detail::descriptor()->full_name());
}

// The detail of type `Detail` attached to `status`, or an empty one.
template <typename Detail>
Detail Get(const absl::Status& status) {
  Detail detail;
  if (auto bytes = status.GetPayload(TypeUrl<Detail>())) {
    // Only kam attaches these payloads, from messages it serialized itself.
    if (!detail.ParseFromString(std::string(*bytes))) detail.Clear();
  }
  return detail;
}

template <typename Detail>
absl::Status Set(absl::Status status, const Detail& detail) {
  if (status.ok()) return status;
  status.SetPayload(TypeUrl<Detail>(), absl::Cord(detail.SerializeAsString()));
  return status;
}

bool IsDetailUrl(absl::string_view url) {
  return absl::StartsWith(url, absl::StrCat(kTypePrefix, "google.rpc."));
}

// "account.contacts[2].email", "x-kam-min-version": a field path or header name, not prose.
bool IsFieldPath(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '.' || c == '[' ||
           c == ']' || c == '-';
  });
}

}  // namespace

absl::Status WithReason(absl::Status status, std::string_view reason,
                        const std::map<std::string, std::string>& metadata) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kDomain);
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  return Set(std::move(status), info);
}

absl::Status WithFieldViolation(absl::Status status, std::string_view field,
                                std::string_view description) {
  auto request = Get<google::rpc::BadRequest>(status);
  auto* violation = request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  return Set(std::move(status), request);
}

absl::Status WithPreconditionViolation(absl::Status status, std::string_view type,
                                       std::string_view subject, std::string_view description) {
  auto failure = Get<google::rpc::PreconditionFailure>(status);
  auto* violation = failure.add_violations();
  violation->set_type(std::string(type));
  violation->set_subject(std::string(subject));
  violation->set_description(std::string(description));
  return Set(std::move(status), failure);
}

absl::Status WithResourceInfo(absl::Status status, std::string_view type, std::string_view name,
                              std::string_view description) {
  google::rpc::ResourceInfo info;
  info.set_resource_type(std::string(type));
  info.set_resource_name(std::string(name));
  info.set_description(std::string(description));
  return Set(std::move(status), info);
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  google::rpc::RetryInfo info;
  const int64_t nanos = absl::ToInt64Nanoseconds(delay);
  info.mutable_retry_delay()->set_seconds(nanos / 1000000000);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return Set(std::move(status), info);
}

absl::Status InvalidField(std::string_view field, std::string_view problem) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", std::string(problem)));
  return WithReason(WithFieldViolation(std::move(status), field, problem), kInvalidField);
}

absl::Status NotFound(std::string_view resource, std::string_view name, std::string_view message) {
  // "Account" -> ACCOUNT_NOT_FOUND, "AccountManager" -> ACCOUNT_MANAGER_NOT_FOUND.
  std::string reason;
  for (char c : resource) {
    if (absl::ascii_isupper(c) && !reason.empty()) reason += '_';
    reason += absl::ascii_toupper(c);
  }
  absl::Status status = absl::NotFoundError(std::string(message));
  status = WithResourceInfo(std::move(status), absl::StrCat("kam.v1.", std::string(resource)), name,
                            message);
  return WithReason(std::move(status), absl::StrCat(reason, "_NOT_FOUND"));
}

absl::Status EtagMismatch(std::string_view subject, std::string_view message) {
  absl::Status status = absl::AbortedError(std::string(message));
  status = WithPreconditionViolation(std::move(status), "ETAG", subject, message);
  return WithReason(std::move(status), kEtagMismatch);
}

absl::Status FailedPrecondition(std::string_view reason, std::string_view type,
                                std::string_view subject, std::string_view message) {
  absl::Status status = absl::FailedPreconditionError(std::string(message));
  status = WithPreconditionViolation(std::move(status), type, subject, message);
  return WithReason(std::move(status), reason);
}

bool FieldViolations::Add(const absl::Status& check) {
  if (check.ok()) return true;
  if (check.code() != absl::StatusCode::kInvalidArgument) {
    if (other_.ok()) other_ = check;
    return false;
  }
  auto request = Get<google::rpc::BadRequest>(check);
  if (request.field_violations().empty()) {
    // An INVALID_ARGUMENT made without InvalidField: its field from kam's message convention.
    request = Get<google::rpc::BadRequest>(FromRpcStatus(ToRpcStatus(check)));
    if (request.field_violations().empty()) {
      request.add_field_violations()->set_description(std::string(check.message()));
    }
  }
  for (auto& violation : *request.mutable_field_violations()) {
    ++count_;
    // The details travel in a trailer, which clients cap (8 KiB by default in gRPC's C core and
    // Java): a bounded list of bounded descriptions, the count in ErrorInfo.
    if (bad_request_.field_violations_size() >= kMaxViolations) continue;
    if (violation.description().size() > kMaxDescriptionBytes) {
      violation.mutable_description()->resize(kMaxDescriptionBytes);
      violation.mutable_description()->append("...");
    }
    if (bad_request_.field_violations_size() < kMaxMessageViolations) {
      absl::StrAppend(&message_, message_.empty() ? "" : "; ", violation.field(),
                      violation.field().empty() ? "" : ": ", violation.description());
    }
    *bad_request_.add_field_violations() = std::move(violation);
  }
  return false;
}

absl::Status FieldViolations::status() const {
  if (!other_.ok()) return other_;
  if (count_ == 0) return absl::OkStatus();
  std::string message = message_;
  if (count_ > kMaxMessageViolations) {
    absl::StrAppend(&message, "; and ", count_ - kMaxMessageViolations,
                    " more (every field in the BadRequest details",
                    count_ > kMaxViolations ? absl::StrCat(", the first ", kMaxViolations) : "",
                    ")");
  }
  absl::Status status = Set(absl::InvalidArgumentError(message), bad_request_);
  return WithReason(std::move(status), kInvalidField, {{"violations", std::to_string(count_)}});
}

absl::Status FromRpcStatus(const google::rpc::Status& rpc) {
  absl::Status status(static_cast<absl::StatusCode>(rpc.code()), rpc.message());
  for (const auto& any : rpc.details()) {
    if (IsDetailUrl(any.type_url())) status.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  if (status.ok()) return "";
  google::rpc::ErrorInfo info;
  const google::rpc::Status rpc = ToRpcStatus(status);
  for (const auto& any : rpc.details()) {
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";  // ToRpcStatus always adds one: cannot happen
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(std::string(status.message()));
  if (status.ok()) return rpc;
  absl::Status detailed = status;
  if (status.code() == absl::StatusCode::kInvalidArgument &&
      !status.GetPayload(TypeUrl<google::rpc::BadRequest>())) {
    // kam's convention: an INVALID_ARGUMENT message starts with the field it is about
    // ("page_size: must be >= 0, got -1"), so errors made without InvalidField name it too.
    const std::string message(status.message());
    const size_t colon = message.find(": ");
    if (colon != std::string::npos && colon > 0 && IsFieldPath(message.substr(0, colon))) {
      detailed = WithFieldViolation(detailed, message.substr(0, colon), message.substr(colon + 2));
      if (!status.GetPayload(TypeUrl<google::rpc::ErrorInfo>())) {
        detailed = WithReason(detailed, kInvalidField);
      }
    }
  }
  auto info = Get<google::rpc::ErrorInfo>(detailed);
  if (info.reason().empty()) info.set_reason(absl::StatusCodeToString(status.code()));
  info.set_domain(kDomain);
  rpc.add_details()->PackFrom(info);
  detailed.ForEachPayload([&](absl::string_view url, const absl::Cord& bytes) {
    if (!IsDetailUrl(url) || url == TypeUrl<google::rpc::ErrorInfo>()) return;
    auto* any = rpc.add_details();
    any->set_type_url(std::string(url));
    any->set_value(std::string(bytes));
  });
  const bool retryable = status.code() == absl::StatusCode::kUnavailable ||
                         status.code() == absl::StatusCode::kResourceExhausted;
  if (retryable && !status.GetPayload(TypeUrl<google::rpc::RetryInfo>())) {
    google::rpc::RetryInfo retry;
    retry.mutable_retry_delay()->set_seconds(1);
    rpc.add_details()->PackFrom(retry);
  }
  return rpc;
}

}  // namespace kam::errors
