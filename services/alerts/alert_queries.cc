// The alerts engine's read side: list, get, and the change log behind WatchAlerts.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/alerts/alert_listing.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/alerts_engine.h"

namespace kam::alerts {

using kam::v1::Alert;

absl::StatusOr<kam::v1::ListAlertsResponse> AlertsEngine::ListAlerts(
    const kam::v1::ListAlertsRequest& request) const {
  KAM_RETURN_IF_ERROR(CheckListRequest(request));
  std::vector<Alert> matching;
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
    if (Matches(request, alert)) matching.push_back(std::move(alert));
    it->Next();
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan alerts"));
  return PageOf(std::move(matching), request, tokens_);
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
