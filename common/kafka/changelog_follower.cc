#include "common/kafka/changelog_follower.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam::kafka {
namespace {
constexpr int kTimeoutMs = 10000;
}  // namespace

absl::StatusOr<std::unique_ptr<ChangelogFollower>> ChangelogFollower::Create(
    const KafkaOptions& options, std::string topic, OnRecord on_record) {
  std::unique_ptr<ChangelogFollower> follower(
      new ChangelogFollower(std::move(topic), std::move(on_record)));
  // A view is read by API calls: a change should show up in tens of milliseconds, not after the
  // default 500 ms fetch wait.
  KAM_ASSIGN_OR_RETURN(follower->consumer_,
                       NewChangelogReader(options, absl::StrCat(follower->topic_, ".view"), 20));
  return follower;
}

ChangelogFollower::~ChangelogFollower() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

absl::Status ChangelogFollower::Start(std::function<void()> on_caught_up) {
  on_caught_up_ = std::move(on_caught_up);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

absl::Status ChangelogFollower::AssignFromBeginning() {
  KAM_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(consumer_.get(), topic_, kTimeoutMs));
  std::map<int32_t, int64_t> behind;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_.get(), topic_.c_str(), p,
                                                               &low, &high, kTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return FromKafka(err, absl::StrCat("changelog ", topic_, "/", p, " watermarks"));
    }
    if (high > low) behind[p] = high;
    rd_kafka_topic_partition_list_add(assignment, topic_.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  KAM_RETURN_IF_ERROR(FromKafka(err, "view assign"));
  behind_ = std::move(behind);
  log::Info("following changelog", {{"topic", topic_},
                                    {"partitions", std::to_string(partitions)},
                                    {"behind_partitions", std::to_string(behind_.size())}});
  return absl::OkStatus();
}

void ChangelogFollower::Run() {
  auto reached = [this](int32_t partition, int64_t next) {
    if (caught_up_) return;
    auto it = behind_.find(partition);
    if (it != behind_.end() && next >= it->second) behind_.erase(it);
    if (behind_.empty()) {
      caught_up_ = true;
      log::Info("changelog view caught up",
                {{"topic", topic_}, {"records", std::to_string(records_total_.load())}});
      if (on_caught_up_) on_caught_up_();
    }
  };
  // A topic created moments ago may have no leader yet: retry until it answers (health stays
  // NOT_SERVING meanwhile).
  while (!stop_) {
    absl::Status assigned = AssignFromBeginning();
    if (assigned.ok()) break;
    log::Warn("changelog view cannot start yet; retrying",
              {{"topic", topic_}, {"error", assigned.ToString()}});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (stop_) return;
  reached(-1, 0);  // an empty topic: caught up at once
  while (!stop_) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      reached(message->partition, message->offset);
    } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // The consumer retries by itself; a view that falls behind only answers later.
      log::Warn("changelog view", {{"topic", topic_},
                                   {"error", rd_kafka_message_errstr(message)}});
    } else {
      std::string_view key(static_cast<const char*>(message->key), message->key_len);
      std::optional<std::string_view> value;
      if (message->payload != nullptr) {
        value = std::string_view(static_cast<const char*>(message->payload), message->len);
      }
      on_record_(message->partition, key, value);
      ++records_total_;
      reached(message->partition, message->offset + 1);
    }
    rd_kafka_message_destroy(message);
  }
}

}  // namespace kam::kafka
