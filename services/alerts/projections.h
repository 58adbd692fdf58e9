#pragma once

// One projection per input topic: how a record of kam.accounts.v1, kam.managers.v1 or
// kam.interactions.v1 changes the state of its task (partition p) and which alerts it moves.

#include <cstdint>

#include "common/consumer_offsets.h"
#include "kam/v1/events.pb.h"
#include "services/alerts/alert_tx.h"
#include "services/alerts/engine_options.h"

namespace kam::alerts {

// An account's facts (owner, tier, key flag, industry, closed); releases its held-back
// interactions once it is known.
absl::Status OnAccountEvent(AlertTx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                            const ConsumedRecord& record, const EngineOptions& options);
// A manager's load and capacity: MANAGER_OVERLOADED.
absl::Status OnManagerEvent(AlertTx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                            const ConsumedRecord& record, const EngineOptions& options);
// An interaction: satisfaction signals, open requests, contacts; fires due timers first.
absl::Status OnInteraction(AlertTx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                           const ConsumedRecord& record, const EngineOptions& options);

}  // namespace kam::alerts
