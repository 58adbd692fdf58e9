#pragma once

// A manager's portfolio, seen across partitions. Accounts and their manager live on different
// partitions (keyed by account id vs manager id), so the portfolio symptoms of overload are
// aggregated through a repartition topic, the way Kafka Streams does it:
//
//   account task (partition of the account)          manager task (partition of the manager)
//   after each change of an account's alerts:        kam-alerts.portfolio.v1, key = manager id
//   PortfolioFact {falling?, overdue requests,  ───►  portfolio[account] = fact
//   since when} -- only when it changed               MANAGER_OVERLOADED (symptoms in evidence)
//                                                     PORTFOLIO_STRAIN (the early warning)
//
// Facts travel through the outbox like every other event, so each arrives exactly once, in order
// per manager; a reassignment sends a removal to the old manager and a fact to the new one.

#include <cstdint>
#include <string>

#include "common/consumer_offsets.h"
#include "services/alerts/alert_tx.h"
#include "services/alerts/engine_options.h"

namespace kam::alerts {

// Account side: sends the account's current fact to its manager's task when it changed since the
// last one sent (and a removal to the previous manager after a reassignment or closure).
absl::Status ReportPortfolioFact(AlertTx& tx, int32_t p, const std::string& account_id,
                                 int64_t at_millis, const EngineOptions& options);

// Manager side: a fact from kam-alerts.portfolio.v1.
absl::Status OnPortfolioFact(AlertTx& tx, int32_t p, const ConsumedRecord& record,
                             const EngineOptions& options);

// MANAGER_OVERLOADED and PORTFOLIO_STRAIN for `manager_id`, as of `at_millis`.
absl::Status EvaluateManager(AlertTx& tx, int32_t p, const std::string& manager_id,
                             const EngineOptions& options, int64_t at_millis);

}  // namespace kam::alerts
