// The alerts engine's read side: list, get, and the change log behind WatchAlerts.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/alerts_engine.h"

namespace kam::alerts {

using kam::v1::Alert;

absl::StatusOr<kam::v1::ListAlertsResponse> AlertsEngine::ListAlerts(
    const kam::v1::ListAlertsRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  if (!kam::v1::AlertState_IsValid(request.state()))
    return absl::InvalidArgumentError("state: unknown value");
  if (!kam::v1::AlertRule_IsValid(request.rule()))
    return absl::InvalidArgumentError("rule: unknown value");
  if (!kam::v1::Severity_IsValid(request.min_severity())) {
    return absl::InvalidArgumentError("min_severity: unknown value");
  }
  const std::string filter =
      absl::StrCat("alerts|", request.state(), "|", request.rule(), "|", request.min_severity(),
                   "|", request.account_id(), "|", request.manager_id());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  auto wanted = [&](const Alert& alert) {
    return (request.state() == 0 || alert.state() == request.state()) &&
           (request.rule() == 0 || alert.rule() == request.rule()) &&
           alert.severity() >= request.min_severity() &&
           (request.account_id().empty() || alert.account_id() == request.account_id()) &&
           (request.manager_id().empty() || alert.manager_id() == request.manager_id());
  };
  std::vector<Alert> alerts;
  auto it = store_->NewIterator(kAlertsCf);
  for (it->SeekToFirst(); it->Valid();) {
    const int32_t p = PartitionOf(it->key().ToStringView());
    if (!Runs(p)) {
      it->Seek(Partition(p + 1));
      continue;
    }
    Alert alert;
    if (!alert.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("alert record does not parse");
    }
    if (wanted(alert)) alerts.push_back(std::move(alert));
    it->Next();
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan alerts"));
  // Newest first; the position (start time, id) keeps pages stable while alerts come and go.
  auto position = [](const Alert& alert) {
    return EncodeUint64(~static_cast<uint64_t>(MillisFromTimestamp(alert.start_time()))) +
           alert.id();
  };
  std::sort(alerts.begin(), alerts.end(),
            [&](const Alert& a, const Alert& b) { return position(a) < position(b); });
  kam::v1::ListAlertsResponse response;
  for (auto& alert : alerts) {
    if (!after.empty() && position(alert) <= after) continue;
    if (response.alerts_size() == page_size) {
      response.set_next_page_token(tokens_.Issue(filter, position(*response.alerts().rbegin())));
      break;
    }
    *response.add_alerts() = std::move(alert);
  }
  return response;
}

absl::StatusOr<std::optional<std::pair<int32_t, Alert>>> AlertsEngine::FindAlert(
    const std::string& id) const {
  // Alerts are kept per task (partition prefix): one point lookup per partition present.
  auto it = store_->NewIterator(kAlertsCf);
  for (it->SeekToFirst(); it->Valid();) {
    const int32_t p = PartitionOf(it->key().ToStringView());
    if (!Runs(p)) {
      it->Seek(Partition(p + 1));
      continue;
    }
    KAM_ASSIGN_OR_RETURN(auto alert, LoadMessage<Alert>(*store_, kAlertsCf, PartKey(p, id)));
    if (alert) return std::optional<std::pair<int32_t, Alert>>({p, std::move(*alert)});
    it->Seek(Partition(p + 1));
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan alerts"));
  return std::optional<std::pair<int32_t, Alert>>();
}

absl::Status NoAlert(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("id: no alert \"", id, "\" in the tasks this instance runs"));
}

absl::StatusOr<Alert> AlertsEngine::GetAlert(const kam::v1::GetAlertRequest& request) const {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  KAM_ASSIGN_OR_RETURN(auto found, FindAlert(request.id()));
  if (!found) return NoAlert(request.id());
  return found->second;
}

absl::StatusOr<std::vector<kam::v1::AlertChange>> AlertsEngine::ChangesAfter(
    const std::string& resume_token, size_t limit) const {
  uint64_t after = 0;
  if (!resume_token.empty() && !absl::SimpleAtoi(resume_token, &after)) {
    return absl::InvalidArgumentError("resume_token: not a token this service issued");
  }
  std::vector<kam::v1::AlertChange> changes;
  auto it = store_->NewIterator(kChangesCf);
  for (it->Seek(EncodeUint64(after + 1)); it->Valid() && changes.size() < limit; it->Next()) {
    kam::v1::AlertChange change;
    if (!change.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("alert change does not parse");
    }
    changes.push_back(std::move(change));
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan changes"));
  return changes;
}

std::string AlertsEngine::LatestToken() const {
  auto it = store_->NewIterator(kChangesCf);
  it->SeekToLast();
  return it->Valid() ? std::to_string(DecodeUint64(it->key().ToStringView())) : "0";
}

}  // namespace kam::alerts
