#include "services/alerts/cloud_event.h"

#include <google/protobuf/util/json_util.h>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kam::alerts {

std::string CloudEventType(kam::v1::AlertChangeKind kind) {
  switch (kind) {
    case kam::v1::ALERT_CHANGE_KIND_FIRED:
      return "dev.kam.alert.fired";
    case kam::v1::ALERT_CHANGE_KIND_SEVERITY_CHANGED:
      return "dev.kam.alert.severity_changed";
    case kam::v1::ALERT_CHANGE_KIND_ACKNOWLEDGED:
      return "dev.kam.alert.acknowledged";
    case kam::v1::ALERT_CHANGE_KIND_RESOLVED:
      return "dev.kam.alert.resolved";
    case kam::v1::ALERT_CHANGE_KIND_SNOOZED:
      return "dev.kam.alert.snoozed";
    case kam::v1::ALERT_CHANGE_KIND_SNOOZE_ENDED:
      return "dev.kam.alert.snooze_ended";
    default:
      return "dev.kam.alert.changed";
  }
}

std::string CloudEventId(const kam::v1::Alert& alert) { return alert.id() + "/" + alert.etag(); }

std::string RenderCloudEvent(const kam::v1::AlertChange& change, int32_t task, uint64_t sequence,
                             const std::string& traceparent) {
  std::string alert_json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Printing fails for a timestamp outside 0001-9999 (the fuzzer found one; the service's own
  // inputs are validated to that range). The event must stay valid JSON for every consumer of
  // the stream, so such an alert goes out without its data and says why, rather than as a
  // half-written object.
  const auto printed =
      google::protobuf::util::MessageToJsonString(change.alert(), &alert_json, options);
  if (!printed.ok()) alert_json = "null";
  nlohmann::ordered_json event;
  event["specversion"] = "1.0";
  // Alert id and etag: the etag moves with every published change and is part of the alert's
  // changelogged state, so the id is unique per change also across crashes and partition moves.
  event["id"] = CloudEventId(change.alert());
  event["source"] = "kam-alerts";
  event["type"] = CloudEventType(change.kind());
  event["subject"] = change.alert().fingerprint();
  // From seconds and nanos, not via milliseconds: seconds * 1000 overflows for a timestamp
  // protobuf parses but kam never writes, and absl::Time saturates instead.
  const google::protobuf::Timestamp& updated = change.alert().update_time();
  event["time"] = absl::FormatTime(
      "%Y-%m-%dT%H:%M:%E3SZ",
      absl::FromUnixSeconds(updated.seconds()) + absl::Nanoseconds(updated.nanos()),
      absl::UTCTimeZone());
  event["datacontenttype"] = "application/json";
  event["kamtask"] = std::to_string(task);
  event["kamsequence"] = std::to_string(sequence);
  // Notifiers filter on this without reading the data: snoozed, silenced or quietly grouped.
  event["kamsuppressed"] = change.alert().notification_suppressed();
  if (!change.alert().group_alert_id().empty()) {
    event["kamgroup"] = change.alert().group_alert_id();
  }
  if (!traceparent.empty()) event["traceparent"] = traceparent;
  if (!printed.ok()) event["kamdataerror"] = printed.ToString();
  // The data member is protobuf's JSON as printed; splicing it in (instead of parsing it into the
  // object and printing it again) halves the cost of a change on the consumer thread.
  std::string rendered = event.dump();
  rendered.pop_back();  // the closing brace
  rendered.append(",\"data\":").append(alert_json).push_back('}');
  return rendered;
}

}  // namespace kam::alerts
