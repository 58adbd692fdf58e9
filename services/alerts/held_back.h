#pragma once

// Interactions that arrive before their account's event (the two come on different topics) are
// held back, per partition and account, until the account is known -- then applied in event-time
// order -- or, when it never shows up within a grace period of wall time, dead-lettered.

#include <cstdint>
#include <string>
#include <vector>

#include "common/consumer_offsets.h"
#include "services/alerts/alert_tx.h"

namespace kam::alerts {

absl::Status HoldBack(AlertTx& tx, int32_t p, const ConsumedRecord& record, int64_t occur_millis,
                      int64_t wall_millis);

// Removes and returns the records held back for `account_id`, in event-time order.
absl::StatusOr<std::vector<ConsumedRecord>> TakeHeldBack(AlertTx& tx, int32_t p,
                                                         const std::string& account_id);

// Dead-letters the records of partition p held back longer than `grace_millis` of wall time.
absl::Status ExpireHeldBack(AlertTx& tx, int32_t p, int64_t wall_millis, int64_t grace_millis);

}  // namespace kam::alerts
