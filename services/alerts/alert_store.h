#pragma once

// The alerts engine's storage layout: column families and key encodings. Every key of a task's
// state starts with its partition number (4 bytes big-endian), so a partition's state is one key
// range that can move with the partition.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_details.h"
#include "common/fingerprint.h"
#include "common/store.h"
#include "kam/v1/alerts.pb.h"

namespace kam::alerts {

inline constexpr char kAccountsCf[] = "alert_accounts";
inline constexpr char kManagersCf[] = "alert_managers";
inline constexpr char kAlertsCf[] = "alerts";
inline constexpr char kLatestCf[] = "latest";
// Per task: key partition + sequence (8 bytes) -> AlertChange; key partition alone -> the last
// sequence.
inline constexpr char kChangesCf[] = "changes";
inline constexpr char kTimersCf[] = "timers";
// Per task: key partition + wall millis (8 bytes) + command id -> AlertCommandResult.
inline constexpr char kCommandResultsCf[] = "command_results";
inline constexpr char kParkedCf[] = "parked";
inline constexpr char kClockCf[] = "clock";
// Per task: partition + account id -> AccountKpiState (kpi_facts.h).
inline constexpr char kKpisCf[] = "kpis";
// Per task: partition + fingerprint -> AlertDamping: a verdict waiting out its pending or hold
// time (damping.h).
inline constexpr char kDampingCf[] = "damping";
// Task 0 only: partition + silence id -> kam.v1.Silence (silences.h).
inline constexpr char kSilencesCf[] = "silences";
// Not a task's state: this instance's copy of the changelog records its views read (alerts,
// changes, command results, KPI facts, silences of every task), changelog key -> partition +
// value, so that a restart reads only what the changelog gained since (changelog_follower.h).
inline constexpr char kViewCopyCf[] = "view_copy";

// Whether the views (alerts, KPIs, silences) read the changelog record with this key.
inline bool ViewReads(std::string_view changelog_key) {
  const std::string_view cf = changelog_key.substr(0, changelog_key.find('\0'));
  return cf == kAlertsCf || cf == kChangesCf || cf == kCommandResultsCf || cf == kKpisCf ||
         cf == kSilencesCf;
}
// The layout of this store; older layouts are refused at start.
inline constexpr char kFormatKey[] = "alerts.store_format";
inline constexpr char kFormat[] = "3";
// The CloudEvent source and the dead-letter consumer name.
inline constexpr char kSource[] = "kam-alerts";

inline std::string Partition(int32_t partition) {
  return EncodeUint64(static_cast<uint64_t>(partition)).substr(4);
}
inline std::string PartKey(int32_t partition, const std::string& id) {
  return Partition(partition) + id;
}
inline std::string ParkedPrefix(int32_t partition, const std::string& account) {
  return Partition(partition) + account + std::string(1, '\0');
}

// The partition number a task key starts with.
inline int32_t PartitionOf(std::string_view key) {
  return static_cast<int32_t>(DecodeUint64(std::string(4, '\0') + std::string(key.substr(0, 4))));
}

// The column families whose keys start with a task's partition: the state that moves with it.
inline std::vector<std::string> TaskColumnFamilies() {
  return {kAccountsCf, kManagersCf, kAlertsCf,         kLatestCf, kChangesCf, kTimersCf,
          kParkedCf,   kClockCf,    kCommandResultsCf, kKpisCf,   kDampingCf, kSilencesCf};
}

inline std::string FingerprintOf(kam::v1::AlertRule rule, const std::string& subject) {
  return Sha256Hex(absl::StrCat(kam::v1::AlertRule_Name(rule), "|", subject)).substr(0, 16);
}

// NOT_FOUND for an alert id nobody knows: every place that looks an alert up answers alike.
inline absl::Status NoSuchAlert(const std::string& id) {
  return errors::NotFound("Alert", id, absl::StrCat("id: no alert \"", id, "\""));
}

inline bool IsOpen(const kam::v1::Alert& alert) {
  return alert.state() == kam::v1::ALERT_STATE_FIRING ||
         alert.state() == kam::v1::ALERT_STATE_ACKNOWLEDGED ||
         alert.state() == kam::v1::ALERT_STATE_SNOOZED;
}

}  // namespace kam::alerts
