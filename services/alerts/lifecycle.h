#pragma once

// The alert lifecycle as a pure function: given the latest instance of a fingerprint and what the
// rules want now, the next version of the alert and the change to publish (if any).
//
//   (none|resolved) --open--> FIRING --severity--> FIRING --closed--> RESOLVED
//                               |  acknowledge: ACKNOWLEDGED (still open)  |
//                               |  snooze: SNOOZED --snooze ends--> FIRING  |
//
// A new firing after a resolution is a new instance (`<fingerprint>-<n+1>`). An open alert that
// is re-evaluated without a change of state or severity gets the new summary and evidence but
// keeps its etag: no change is published, so a client's last-seen etag stays valid. A resolution
// keeps the evidence the alert had and adds what the rule says about how it ended (`outcome`).

#include <cstdint>
#include <optional>
#include <string>

#include "kam/v1/alerts.pb.h"
#include "services/alerts/rules.h"

namespace kam::alerts {

struct AlertStep {
  kam::v1::Alert alert;  // the version to store
  // The change to publish; ALERT_CHANGE_KIND_UNSPECIFIED when only details changed.
  kam::v1::AlertChangeKind kind = kam::v1::ALERT_CHANGE_KIND_UNSPECIFIED;
};

struct AlertSubject {
  kam::v1::AlertRule rule = kam::v1::ALERT_RULE_UNSPECIFIED;
  std::string fingerprint;
  std::string account_id;
  std::string manager_id;
  std::string parent_account_id;  // the account's group, for subsidiaries
};

// nullopt when nothing is open and nothing should be (no write at all).
std::optional<AlertStep> NextAlert(const std::optional<kam::v1::Alert>& latest,
                                   const AlertSubject& subject, const Desired& desired,
                                   int64_t at_millis);

// `alert` acknowledged by `by` at `at_millis` (the caller checked that it is open).
kam::v1::Alert Acknowledged(const kam::v1::Alert& alert, const std::string& by, int64_t at_millis);

// `alert` snoozed as `request` says at `at_millis` (the caller checked the request and that the
// alert is open).
kam::v1::Alert Snoozed(const kam::v1::Alert& alert, const kam::v1::SnoozeAlertRequest& request,
                       int64_t at_millis);

// A snoozed `alert` firing again at `at_millis`; the snooze's end, author and reason stay.
kam::v1::Alert SnoozeEnded(const kam::v1::Alert& alert, int64_t at_millis);

}  // namespace kam::alerts
