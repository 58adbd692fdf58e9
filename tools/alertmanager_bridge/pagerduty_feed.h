#pragma once

// kam's alerts as PagerDuty Events API v2 events (or any webhook that takes them): trigger,
// acknowledge and resolve, with dedup_key = the alert's fingerprint. Built on the same view of the
// stream as the Alertmanager feed (the latest change per fingerprint), as a state to reach rather
// than a list of changes to replay: for each fingerprint the feed knows what it last delivered and
// what the stream says now, and hands out the events that close the gap. PagerDuty's dedup_key
// makes a repeated trigger or resolve harmless, so after a restart (nothing remembered) the feed
// delivers the current state once more; nothing is lost and no incident is opened twice.
//
// What the stream says, per fingerprint (the latest change decides):
// - FIRING, notified: trigger.  ACKNOWLEDGED, notified: trigger (if not delivered yet), then
//   acknowledge.  RESOLVED (within the keep period): resolve.
// - notification_suppressed or SNOOZED: nothing new is delivered (an open incident stays open).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tools/alertmanager_bridge/alertmanager_feed.h"

namespace kam::bridge {

struct PagerDutyEvent {
  std::string fingerprint;
  std::string action;  // trigger, acknowledge, resolve
  nlohmann::json body;
};

class PagerDutyFeed {
 public:
  PagerDutyFeed(std::string routing_key, int64_t resolved_keep_millis)
      : routing_key_(std::move(routing_key)), resolved_keep_millis_(resolved_keep_millis) {}

  // The next events to deliver, in order per fingerprint, given the stream's latest alerts; an
  // incident this feed opened is resolved however long its resolve waited (forgets what both
  // sides have closed).
  std::vector<PagerDutyEvent> Pending(const std::map<std::string, nlohmann::json>& latest,
                                      int64_t now_millis);
  // `event` reached the receiver (2xx): it is not handed out again.
  void Delivered(const PagerDutyEvent& event);

 private:
  std::string routing_key_;
  int64_t resolved_keep_millis_;
  std::map<std::string, std::string> delivered_;  // fingerprint -> last action delivered
};

}  // namespace kam::bridge
