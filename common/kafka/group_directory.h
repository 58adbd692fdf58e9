#pragma once

// Where each task of a consumer group runs, and how to reach it: Kafka Streams' "interactive
// queries" metadata, on librdkafka. Every member puts its gRPC address into its client.id
// ("<service>@host:port", MembershipOptions::advertised_address); the group's description
// (DescribeConsumerGroups: members, their client ids and assignments, straight from the group
// coordinator) then says which address owns which partition. No topic of our own, no second
// source of truth: the assignment the coordinator hands out IS the ownership.
//
// The map is refreshed in the background (every `refresh_every`, and at once when asked: after a
// local rebalance, or when a peer said it no longer owns a task). While the group rebalances the
// last stable map is kept: a call forwarded on it reaches an instance that answers UNAVAILABLE
// ("moved, retry") if it lost the task, never a wrong answer.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/kafka/kafka_common.h"

namespace kam::kafka {

// The address in a member's client.id ("<service>@<address>"); empty when it has none.
std::string AdvertisedAddressOf(std::string_view client_id);

class GroupDirectory {
 public:
  // Describes `group` and keeps, for each partition of `topic`, its owner's address.
  static absl::StatusOr<std::unique_ptr<GroupDirectory>> Create(
      const KafkaOptions& options, std::string group, std::string topic,
      absl::Duration refresh_every = absl::Seconds(2));
  ~GroupDirectory();

  // Starts the background refresh.
  void Start();
  // The address of the member that owns `partition` (as of the last stable description).
  std::optional<std::string> OwnerOf(int32_t partition) const;
  // Every member's address (for lookups that must ask all: GetInteraction by id).
  std::vector<std::string> Members() const;
  // Ask the coordinator again soon (after a rebalance, or a peer's "not mine").
  void RequestRefresh();
  // Describes the group now (blocking, up to a few seconds); used by Start and the refresher.
  absl::Status Refresh();

  uint64_t refreshes_total() const { return refreshes_total_.load(); }

 private:
  GroupDirectory(std::string group, std::string topic, absl::Duration refresh_every)
      : group_(std::move(group)), topic_(std::move(topic)), refresh_every_(refresh_every) {}
  void Loop();

  const std::string group_;
  const std::string topic_;
  const absl::Duration refresh_every_;
  HandlePtr admin_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool refresh_requested_ ABSL_GUARDED_BY(mutex_) = false;
  std::map<int32_t, std::string> owners_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> members_ ABSL_GUARDED_BY(mutex_);
  std::atomic<uint64_t> refreshes_total_ = 0;
  std::thread thread_;
};

}  // namespace kam::kafka
