#pragma once

// The platform's topics and the headers every kam record carries. Plain constants, so logic code
// can name topics without including librdkafka.

#include "common/trace_context.h"

namespace kam::kafka_topics {

// Account events (AccountCreated/Updated/Closed/Assigned), key: account id.
inline constexpr char kAccounts[] = "kam.accounts.v1";
// Manager events, AccountAssigned copies and ManagerLoadChanged snapshots, key: manager id.
inline constexpr char kManagers[] = "kam.managers.v1";
// InteractionRecorded, key: account id.
inline constexpr char kInteractions[] = "kam.interactions.v1";
// Alert state changes as JSON CloudEvents, key: alert fingerprint.
inline constexpr char kAlerts[] = "kam.alerts.v1";
// kam-alerts' repartition topic: per-account portfolio facts (kam.internal.v1.PortfolioFact), key:
// manager id. Co-partitioned with kam.managers.v1; written and read by kam-alerts only. Internal
// topics belong to one application (consumer group), as in Kafka Streams: the name is
// `<consumer group>.portfolio.v1`, this one for the default group.
inline constexpr char kPortfolio[] = "kam-alerts.portfolio.v1";
// kam-alerts' changelog: every write to a task's state (key: column family NUL store key;
// partition: the task's), produced in the same transaction as its outputs. Compacted.
// `<consumer group>.changelog.v1`; this one for the default group.
inline constexpr char kAlertsChangelog[] = "kam-alerts.changelog.v1";
// Records a consumer could not apply, with their origin.
inline constexpr char kDeadLetter[] = "kam.deadletter.v1";

inline constexpr char kProducerHeader[] = "kam-producer";
inline constexpr char kSequenceHeader[] = "kam-seq";
inline constexpr char kEventIdHeader[] = "kam-event-id";
// W3C trace context of the work that wrote the record (common/trace_context.h).
inline constexpr const char* kTraceparentHeader = trace::kTraceparent;

}  // namespace kam::kafka_topics
