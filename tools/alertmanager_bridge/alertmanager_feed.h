#pragma once

// What kam.alerts.v1 says Alertmanager should hold, as Alertmanager's v2 API expects of a client
// (POST /api/v2/alerts): every firing alert re-sent periodically with an end a few resend periods
// ahead (so an alert the client stops sending expires on its own), a resolved alert sent with its
// resolve time as its end for a while after resolving. Logic only: fed CloudEvents in the order of
// their partition, asked for the payload to post.
//
// What is sent, per fingerprint (the latest change decides):
// - open (FIRING, ACKNOWLEDGED) and notified: labels, annotations, startsAt, endsAt = now + 3 x
//   resend period. Alertmanager has no acknowledgement: an acknowledged alert keeps firing there.
// - open but notification_suppressed (snoozed, silenced in kam, grouped under an overload that
//   notifies for it): not sent; if it was sent before, Alertmanager lets it expire at its endsAt.
// - RESOLVED: endsAt = resolve_time, for `resolved_keep` after resolving; then forgotten.
// Alertmanager knows an alert by its labels: when kam changes one while the alert is open
// (severity, owner, group), the label set sent before is sent once more, ended now, so it does
// not linger until it expires and then notify a resolution nobody caused.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "nlohmann/json.hpp"

namespace kam::bridge {

struct FeedOptions {
  int64_t resend_millis = 30 * 1000;
  int64_t resolved_keep_millis = 15 * 60 * 1000;
  // Prefix of the generatorURL: a link back to the alert, e.g. a kam console or grpcurl docs.
  std::string link_prefix = "kam://alerts/";
};

class AlertmanagerFeed {
 public:
  explicit AlertmanagerFeed(FeedOptions options) : options_(std::move(options)) {}

  // One record of kam.alerts.v1; false (and nothing changes) when it is not a kam alert CloudEvent.
  bool Apply(const std::string& cloudevent);
  // The alerts to post now (a JSON array, possibly empty); forgets resolutions older than the
  // keep period.
  nlohmann::json Payload(int64_t now_millis);
  // Fingerprints known (open, or resolved within the keep period).
  size_t known() const { return latest_.size(); }
  // The latest alert of each fingerprint (CloudEvent data, with "_suppressed" from kamsuppressed).
  const std::map<std::string, nlohmann::json>& latest() const { return latest_; }

 private:
  FeedOptions options_;
  std::map<std::string, nlohmann::json> latest_;  // fingerprint -> the latest alert (CloudEvent data)
  std::map<std::string, nlohmann::json> sent_labels_;  // fingerprint -> labels last sent firing
};

}  // namespace kam::bridge
