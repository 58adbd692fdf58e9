#include "common/topic_policy.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/kafka_topics.h"

namespace kam {

absl::StatusOr<TopicDurability> ResolveDurability(int requested_replication_factor,
                                                  int requested_min_insync_replicas, int brokers) {
  if (brokers < 1) return absl::UnavailableError("the cluster reports no broker");
  TopicDurability durability;
  durability.replication_factor =
      requested_replication_factor > 0 ? requested_replication_factor : std::min(3, brokers);
  if (durability.replication_factor > brokers) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--replication-factor ", durability.replication_factor, ": the cluster has ", brokers,
        " broker", brokers == 1 ? "" : "s", "; a partition needs as many brokers as replicas"));
  }
  // One replica may be down (a rolling restart) and writes still succeed; two in sync when there
  // are three or more, so an acknowledged write survives the loss of any one broker.
  durability.min_insync_replicas =
      requested_min_insync_replicas > 0
          ? requested_min_insync_replicas
          : std::clamp(durability.replication_factor - 1, 1, 2);
  if (durability.min_insync_replicas > durability.replication_factor) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--min-insync-replicas ", durability.min_insync_replicas, ": more than the ",
        durability.replication_factor, " replicas; no write could ever be acknowledged"));
  }
  return durability;
}

std::vector<std::pair<std::string, std::string>> TopicConfigFor(const std::string& topic,
                                                                const TopicDurability& durability,
                                                                int alerts_retention_days) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  std::vector<std::pair<std::string, std::string>> config = {
      {"min.insync.replicas", std::to_string(durability.min_insync_replicas)}};
  auto retention = [&](int64_t millis) {
    config.emplace_back("cleanup.policy", "delete");
    config.emplace_back("retention.ms", std::to_string(millis));
  };
  if (topic == kafka_topics::kAccounts || topic == kafka_topics::kManagers ||
      topic == kafka_topics::kInteractions) {
    retention(-1);
  } else if (topic == kafka_topics::kAlerts) {
    retention(int64_t{alerts_retention_days} * kDay);
  } else if (topic == kafka_topics::kDeadLetter) {
    retention(30 * kDay);
  } else if (absl::EndsWith(topic, ".changelog.v1") || absl::EndsWith(topic, ".members.v1")) {
    config.emplace_back("cleanup.policy", "compact");
  } else if (absl::EndsWith(topic, ".portfolio.v1")) {
    retention(7 * kDay);
  } else if (absl::EndsWith(topic, ".commands.v1")) {
    retention(kDay);
  }
  return config;
}

}  // namespace kam
