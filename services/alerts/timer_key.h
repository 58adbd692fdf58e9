#pragma once

// A timer of the alerts engine, typed: what falls due (a request's response benchmark, an
// account's no-contact period or renewal check, a snooze's end, a damped verdict's wait), for
// which account or alert, on which partition, and when (event time).
// Stored as a key of the `timers` column family, ordered by partition then due time, so a
// partition's due timers are one prefix scan in due order.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kam::alerts {

enum class TimerKind : char {
  kResponseDue = 'o',   // an open request reaches its response benchmark (or twice it)
  kNoContactDue = 'n',  // a watched account reaches its no-contact period
  kRenewalCheck = 'r',  // an account's renewal risk must be judged again (rules.h NextRenewalCheck)
  kSnoozeEnds = 's',    // a snoozed alert's snooze ends (target: the alert id)
  kDampingDue = 'd',    // a damped verdict has waited long enough (target: the fingerprint)
};

struct TimerKey {
  int32_t partition = 0;
  int64_t due_millis = 0;
  TimerKind kind = TimerKind::kResponseDue;
  std::string account_id;
  std::string interaction_id;  // kResponseDue only: the open request
  std::string target;          // kSnoozeEnds and kDampingDue: the alert id or fingerprint

  std::string Encode() const;
  // INVALID_ARGUMENT when the key would not decode back to this timer: an id that is empty or
  // holds the separator '|'. kam's own ids never do, but a record from Kafka may carry any bytes,
  // and a timer no scan can read would stop its partition (a storage error, retried forever).
  absl::Status CheckEncodable() const;
  // nullopt when `key` is not a timer key this version wrote.
  static std::optional<TimerKey> Decode(std::string_view key);
  // The prefix of every timer of `partition`.
  static std::string PartitionPrefix(int32_t partition);
};

}  // namespace kam::alerts
