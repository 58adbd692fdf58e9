#pragma once

// How kam's topics are kept: replication (how many brokers hold each partition, and how many
// must have a write before it is acknowledged) and retention per kind of topic. Applied when a
// service creates a topic that is missing; topics that exist are left as the operator set them.
// Logic only: no librdkafka.
//
// | topic | kept | why |
// |---|---|---|
// | kam.accounts.v1, kam.managers.v1, kam.interactions.v1 | forever | the record every service's state is rebuilt from |
// | kam.alerts.v1 | --alerts-retention-days (90) | what operations teams replay |
// | kam.deadletter.v1 | 30 days | time to look at what was refused |
// | <group>.changelog.v1, <group>.members.v1 | compacted | latest value per key |
// | <group>.portfolio.v1 | 7 days | a repartition topic: read moments after it is written |
// | <group>.commands.v1 | 1 day | API writes on their way to a task: applied within seconds |

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kam {

struct TopicDurability {
  int replication_factor = 1;
  int min_insync_replicas = 1;
};

// The replication for a cluster of `brokers`: `requested_*` as given (0 = automatic: 3 replicas
// and 2 in sync when the cluster has three brokers or more, fewer on a smaller one). A request
// the cluster cannot meet is FAILED_PRECONDITION naming the flag and the broker count.
absl::StatusOr<TopicDurability> ResolveDurability(int requested_replication_factor,
                                                  int requested_min_insync_replicas, int brokers);

// The topic configuration entries for `topic` (retention, compaction, min.insync.replicas).
std::vector<std::pair<std::string, std::string>> TopicConfigFor(const std::string& topic,
                                                                const TopicDurability& durability,
                                                                int alerts_retention_days);

}  // namespace kam
