#pragma once

// A service's store is a cache of what it read from and wrote to ONE Kafka cluster: stored input
// offsets, the account replica, the outbox's sequences all refer to that cluster's topics. Started
// against another cluster (or after a topic was deleted and created again), the service would
// seek to offsets that do not exist and serve state the new cluster never saw. These checks run
// at start and refuse, with a message that says what to do, instead of mixing the two.

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "common/store.h"

namespace kam {

// Records `cluster_id` in the store on first use; FAILED_PRECONDITION when the store was bound to
// another cluster. A store from before this check (state but no cluster recorded) is bound to
// `cluster_id` with a warning.
absl::Status BindStoreToCluster(Store* store, const std::string& cluster_id,
                                const std::string& brokers);

// The end offset (high watermark) of a topic partition; NOT_FOUND when it does not exist.
using EndOffsetFn = std::function<absl::StatusOr<int64_t>(const std::string& topic,
                                                          int32_t partition)>;

// FAILED_PRECONDITION when a stored input offset lies beyond its partition's end: the topic was
// deleted and created again (or truncated) since the state was written.
absl::Status CheckStoredOffsetsWithinTopics(const Store& store, const EndOffsetFn& end_offset);

}  // namespace kam
