#pragma once

// Where each task of a consumer group runs, and how to reach it: Kafka Streams' "interactive
// queries" metadata, on librdkafka. Ownership comes from the group's description
// (ListGroups and DescribeGroups: members and their assignments, from the group coordinator):
// the assignment the coordinator hands out IS the ownership. Addresses come from a compacted
// members topic (`<group>.members.v1`, key = group.instance.id, value = host:port) that every
// instance writes when it joins and every instance follows. (A member's client.id carries the
// address too, but the coordinator keeps a static member's first client.id across restarts, so
// an instance that comes back on another port would be looked for at the old one; the client.id
// is only the fallback for a member without a row.)
//
// The map is refreshed in the background (every `refresh_every`, and at once when asked: after a
// local rebalance, or when a peer said it no longer owns a task). While the group rebalances the
// last stable map is kept: a call forwarded on it reaches an instance that answers UNAVAILABLE
// ("moved, retry") if it lost the task, never a wrong answer.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/kafka/changelog_follower.h"
#include "common/kafka/kafka_common.h"

namespace kam::kafka {

// The address in a member's client.id ("<service>@<address>"); empty when it has none.
std::string AdvertisedAddressOf(std::string_view client_id);

// A consumer group member's assignment, topic -> partitions.
using ConsumerAssignment = std::map<std::string, std::vector<int32_t>>;
// Decodes the consumer protocol's Assignment (any version: version, topics and their partitions,
// then user data, which is skipped); nullopt when the bytes are cut short or malformed.
std::optional<ConsumerAssignment> DecodeConsumerAssignment(std::string_view bytes);

class GroupDirectory {
 public:
  // Describes `group` and keeps, for each partition of `topic`, its owner's address.
  static absl::StatusOr<std::unique_ptr<GroupDirectory>> Create(
      const KafkaOptions& options, std::string group, std::string topic, std::string members_topic,
      absl::Duration refresh_every = absl::Seconds(2));
  // The members topic of `group`.
  static std::string MembersTopic(const std::string& group) { return group + ".members.v1"; }
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
  // The address of the static member `member_id` (from its instance's row on the members
  // topic), else the one in its `client_id`.
  std::string AddressOfMember(std::string_view member_id, std::string_view client_id) const;
  void Loop();
  // Stops asking a broker that cannot answer (and says so once).
  absl::Status Unsupported();

  const std::string group_;
  const std::string topic_;
  const absl::Duration refresh_every_;
  HandlePtr admin_;
  std::unique_ptr<ChangelogFollower> members_follower_;
  mutable Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool refresh_requested_ ABSL_GUARDED_BY(mutex_) = false;
  std::map<int32_t, std::string> owners_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> members_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::string> addresses_ ABSL_GUARDED_BY(mutex_);  // instance -> address
  std::atomic<uint64_t> refreshes_total_ = 0;
  // The broker cannot describe groups (librdkafka's mock cluster, kam-broker): nothing to
  // forward by, so no more asking.
  std::atomic<bool> unsupported_{false};
  // A description went unanswered: its request may still be pending inside librdkafka.
  std::atomic<bool> unanswered_{false};
  std::thread thread_;
};

}  // namespace kam::kafka
