#pragma once

// Timers in event-time order. A timer fires as of its due time, and before any interaction whose
// event time is past it is applied, so the alert history does not depend on which record happened
// to move the partition's clock.

#include <cstdint>
#include <string>

#include "services/alerts/alert_tx.h"
#include "services/alerts/engine_options.h"

namespace kam::alerts {

// Fires, earliest first, partition p's timers due at or before `upto`; with `only_account`, only
// that account's.
absl::Status FireDueTimers(AlertTx& tx, int32_t p, int64_t upto, const std::string* only_account,
                           const EngineOptions& options);

}  // namespace kam::alerts
