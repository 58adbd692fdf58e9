#include "services/alerts/timer_key.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/store.h"
#include "common/task_ownership.h"

namespace kam::alerts {

// Layout: partition (4 bytes big-endian) | due (8 bytes big-endian) | body, where body is
// "o|<account>|<interaction>", "n|<account>", "r|<account>", "s|<alert id>" or "d|<fingerprint>"
// (ids never contain '|': they are validated or made here).

std::string TimerKey::PartitionPrefix(int32_t partition) { return TaskKeyPrefix(partition); }

std::string TimerKey::Encode() const {
  std::string key = PartitionPrefix(partition) + EncodeUint64(static_cast<uint64_t>(due_millis));
  if (kind == TimerKind::kResponseDue) {
    absl::StrAppend(&key, "o|", account_id, "|", interaction_id);
  } else if (kind == TimerKind::kSnoozeEnds || kind == TimerKind::kDampingDue) {
    absl::StrAppend(&key, kind == TimerKind::kSnoozeEnds ? "s|" : "d|", target);
  } else {
    absl::StrAppend(&key, kind == TimerKind::kRenewalCheck ? "r|" : "n|", account_id);
  }
  return key;
}

absl::Status TimerKey::CheckEncodable() const {
  std::optional<TimerKey> back = Decode(Encode());
  if (back && back->kind == kind && back->account_id == account_id &&
      back->interaction_id == interaction_id && back->target == target) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("ids must be non-empty and free of '|' to be scheduled: account \"", account_id,
                   "\", interaction \"", interaction_id, "\", target \"", target, "\""));
}

std::optional<TimerKey> TimerKey::Decode(std::string_view key) {
  if (key.size() < 12) return std::nullopt;
  TimerKey timer;
  timer.partition = static_cast<int32_t>(
      static_cast<uint32_t>(DecodeUint64(std::string(4, '\0') + std::string(key.substr(0, 4)))));
  timer.due_millis = static_cast<int64_t>(DecodeUint64(key.substr(4, 8)));
  std::vector<std::string> parts = absl::StrSplit(std::string(key.substr(12)), '|');
  if (parts.size() == 3 && parts[0] == "o" && !parts[1].empty()) {
    timer.kind = TimerKind::kResponseDue;
    timer.account_id = parts[1];
    timer.interaction_id = parts[2];
    return timer;
  }
  if (parts.size() == 2 && (parts[0] == "s" || parts[0] == "d") && !parts[1].empty()) {
    timer.kind = parts[0] == "s" ? TimerKind::kSnoozeEnds : TimerKind::kDampingDue;
    timer.target = parts[1];
    return timer;
  }
  if (parts.size() == 2 && (parts[0] == "n" || parts[0] == "r") && !parts[1].empty()) {
    timer.kind = parts[0] == "n" ? TimerKind::kNoContactDue : TimerKind::kRenewalCheck;
    timer.account_id = parts[1];
    return timer;
  }
  return std::nullopt;
}

}  // namespace kam::alerts
