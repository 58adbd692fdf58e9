#include "services/alerts/lifecycle.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {
namespace {

using kam::v1::Alert;

// Etags and instance numbers are written by this service only; unreadable ones count as 0.
int64_t NumberOr0(const std::string& text) {
  int64_t number = 0;
  return absl::SimpleAtoi(text, &number) ? number : 0;
}

std::string NextEtag(const Alert& alert) { return std::to_string(NumberOr0(alert.etag()) + 1); }

}  // namespace

std::optional<AlertStep> NextAlert(const std::optional<Alert>& latest, const AlertSubject& subject,
                                   const Desired& desired, int64_t at_millis) {
  const bool open = latest && IsOpen(*latest);
  if (!desired.open && !open) return std::nullopt;
  const auto at = TimestampFromMillis(at_millis);
  AlertStep step;
  Alert& alert = step.alert;
  if (desired.open && !open) {
    int64_t instance = 1;
    if (latest) {
      const size_t dash = latest->id().rfind('-');
      instance = NumberOr0(dash == std::string::npos ? "" : latest->id().substr(dash + 1)) + 1;
    }
    alert.set_id(absl::StrCat(subject.fingerprint, "-", instance));
    alert.set_fingerprint(subject.fingerprint);
    alert.set_rule(subject.rule);
    alert.set_state(kam::v1::ALERT_STATE_FIRING);
    *alert.mutable_start_time() = at;
    alert.set_etag("1");
    step.kind = kam::v1::ALERT_CHANGE_KIND_FIRED;
  } else {
    alert = *latest;
    if (!desired.open) {
      alert.set_state(kam::v1::ALERT_STATE_RESOLVED);
      *alert.mutable_resolve_time() = at;
      step.kind = kam::v1::ALERT_CHANGE_KIND_RESOLVED;
    } else if (desired.severity != latest->severity()) {
      step.kind = kam::v1::ALERT_CHANGE_KIND_SEVERITY_CHANGED;
    }
    if (step.kind != kam::v1::ALERT_CHANGE_KIND_UNSPECIFIED) alert.set_etag(NextEtag(alert));
  }
  if (!desired.open) {
    for (const auto& [name, value] : desired.evidence) {
      auto* evidence = alert.add_evidence();
      evidence->set_name(name);
      evidence->set_value(value);
    }
  }
  if (desired.open) {
    alert.set_severity(desired.severity);
    alert.set_summary(desired.summary);
    alert.clear_evidence();
    for (const auto& [name, value] : desired.evidence) {
      auto* evidence = alert.add_evidence();
      evidence->set_name(name);
      evidence->set_value(value);
    }
  }
  alert.set_account_id(subject.account_id);
  alert.set_manager_id(subject.manager_id);
  alert.set_parent_account_id(subject.parent_account_id);
  *alert.mutable_update_time() = at;
  return step;
}

Alert Acknowledged(const Alert& alert, const std::string& by, int64_t at_millis) {
  Alert acknowledged = alert;
  acknowledged.set_state(kam::v1::ALERT_STATE_ACKNOWLEDGED);
  acknowledged.set_acknowledged_by(by);
  *acknowledged.mutable_acknowledge_time() = TimestampFromMillis(at_millis);
  *acknowledged.mutable_update_time() = acknowledged.acknowledge_time();
  acknowledged.set_etag(NextEtag(alert));
  return acknowledged;
}

Alert Snoozed(const Alert& alert, const kam::v1::SnoozeAlertRequest& request, int64_t at_millis) {
  Alert snoozed = alert;
  snoozed.set_state(kam::v1::ALERT_STATE_SNOOZED);
  snoozed.set_snoozed_by(request.snoozed_by());
  snoozed.set_snooze_reason(request.reason());
  *snoozed.mutable_snooze_end_time() = request.end_time();
  *snoozed.mutable_update_time() = TimestampFromMillis(at_millis);
  snoozed.set_etag(NextEtag(alert));
  return snoozed;
}

Alert SnoozeEnded(const Alert& alert, int64_t at_millis) {
  Alert firing = alert;
  firing.set_state(kam::v1::ALERT_STATE_FIRING);
  *firing.mutable_update_time() = TimestampFromMillis(at_millis);
  firing.set_etag(NextEtag(alert));
  return firing;
}

}  // namespace kam::alerts
