#pragma once

// The facts an account's KPIs are computed from (kpi_report.h), kept current in the account's task
// as its events arrive: when it was opened and closed, its annual revenue over time, its deals,
// survey answers, requests and their handling, contacts per day and churn notices. Stored in the
// `kpis` column family (partition + account id), changelogged like all task state, so every
// instance's KpiBook (kpi_book.h) holds every account's facts.

#include <cstdint>

#include "kam/v1/accounts.pb.h"
#include "kam/v1/interactions.pb.h"
#include "services/alerts/alert_tx.h"

namespace kam::alerts {

// When a fact is added, the facts of its list older than this before it are dropped: KPIs are
// answered for periods within the last three years.
inline constexpr int64_t kKpiHistoryMillis = 3LL * 366 * 24 * 3600 * 1000;

// An account event: owner, group, opening and closing, revenue share, annual revenue.
absl::Status RecordAccountFacts(AlertTx& tx, int32_t p, const kam::v1::Account& account,
                                int64_t at_millis);
// An interaction of a known account, at its event time. Every input record is applied exactly
// once (offsets and state commit together), so facts are not deduplicated here.
absl::Status RecordInteractionFacts(AlertTx& tx, int32_t p, const kam::v1::Interaction& interaction,
                                    int64_t at_millis);

}  // namespace kam::alerts
