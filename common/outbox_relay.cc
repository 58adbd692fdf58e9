#include "common/outbox_relay.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam {

OutboxRelay::OutboxRelay(Outbox* outbox, EventPublisher* publisher, RelayOptions options)
    : outbox_(outbox), publisher_(publisher), options_(std::move(options)) {}

absl::Status OutboxRelay::SyncTopic(const std::string& topic) {
  KAM_ASSIGN_OR_RETURN(auto sequences, publisher_->PublishedSequences(topic));
  uint64_t highest = 0;
  for (const auto& [partition, sequence] : sequences) highest = std::max(highest, sequence);
  if (highest > outbox_->last_sequence()) {
    // Kafka holds sequences the store never issued: the data dir was reset while the topic was
    // kept. Continue above them, or new events would be mistaken for already published ones.
    log::Warn("outbox sequence behind kafka; advancing",
              {{"topic", topic},
               {"kafka_sequence", std::to_string(highest)},
               {"store_sequence", std::to_string(outbox_->last_sequence())}});
    outbox_->AdvancePast(highest);
  }
  published_[topic] = std::move(sequences);
  return absl::OkStatus();
}

absl::Status OutboxRelay::Sync() {
  published_.clear();
  for (const auto& topic : options_.topics) KAM_RETURN_IF_ERROR(SyncTopic(topic));
  synced_ = true;
  return absl::OkStatus();
}

absl::StatusOr<size_t> OutboxRelay::RunOnce() {
  if (!synced_) return absl::FailedPreconditionError("outbox relay not synced with kafka");
  KAM_ASSIGN_OR_RETURN(auto rows, outbox_->ReadPending(0, options_.batch_size));
  if (rows.empty()) return 0;

  std::vector<uint64_t> done;
  std::vector<PublishRecord> to_send;
  for (auto& row : rows) {
    if (!published_.count(row.topic())) {
      // A topic outside options_.topics (e.g. written by an older version): learn its tail too.
      synced_ = false;
      KAM_RETURN_IF_ERROR(SyncTopic(row.topic()));
      synced_ = true;
    }
    KAM_ASSIGN_OR_RETURN(int32_t partition, publisher_->PartitionFor(row.topic(), row.key()));
    auto& partitions = published_[row.topic()];
    if (row.sequence() <= partitions[partition]) {
      done.push_back(row.sequence());
      skipped_total_.fetch_add(1);
      continue;
    }
    PublishRecord record;
    record.sequence = row.sequence();
    record.topic = row.topic();
    record.partition = partition;
    record.key = row.key();
    record.value = std::move(*row.mutable_value());
    record.event_id = row.event_id();
    record.traceparent = row.traceparent();
    to_send.push_back(std::move(record));
  }

  std::vector<bool> delivered;
  absl::Status publish_status = absl::OkStatus();
  if (!to_send.empty()) publish_status = publisher_->Publish(to_send, &delivered);
  size_t delivered_now = 0;
  for (size_t i = 0; i < to_send.size() && i < delivered.size(); ++i) {
    if (!delivered[i]) continue;
    ++delivered_now;
    done.push_back(to_send[i].sequence);
    auto& highest = published_[to_send[i].topic][to_send[i].partition];
    highest = std::max(highest, to_send[i].sequence);
  }
  published_total_.fetch_add(delivered_now);
  // Delete what is known to be in Kafka even when part of the batch failed.
  KAM_RETURN_IF_ERROR(outbox_->Delete(done));
  if (!publish_status.ok()) {
    synced_ = false;
    return publish_status;
  }
  return done.size();
}

void OutboxRelay::Run(const std::atomic<bool>& stop) {
  int backoff_ms = 100;
  while (!stop.load()) {
    if (!synced_) {
      absl::Status status = Sync();
      if (!status.ok()) {
        errors_total_.fetch_add(1);
        log::Warn("outbox relay sync failed; retrying",
                  {{"error", status.ToString()}, {"backoff_ms", std::to_string(backoff_ms)}});
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, 5000);
        continue;
      }
    }
    uint64_t seen = outbox_->last_sequence();
    absl::StatusOr<size_t> moved = RunOnce();
    if (!moved.ok()) {
      errors_total_.fetch_add(1);
      log::Warn("outbox relay publish failed; retrying",
                {{"error", moved.status().ToString()}, {"backoff_ms", std::to_string(backoff_ms)}});
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, 5000);
      continue;
    }
    backoff_ms = 100;
    if (*moved == 0) outbox_->WaitForCommit(seen, 200);
  }
}

}  // namespace kam
