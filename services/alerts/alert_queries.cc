// The alerts engine's read side: list, get, and the change log behind WatchAlerts.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/error_details.h"
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
  return errors::NotFound(
      "Alert", id, absl::StrCat("id: no alert \"", id, "\" in the tasks this instance runs"));
}

absl::StatusOr<Alert> AlertsEngine::GetAlert(const kam::v1::GetAlertRequest& request) const {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  KAM_ASSIGN_OR_RETURN(auto found, FindAlert(request.id()));
  if (!found) return NoAlert(request.id());
  return found->second;
}

}  // namespace kam::alerts
