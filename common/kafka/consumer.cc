#include "common/kafka/consumer.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/kafka_topics.h"
#include "common/logging.h"

namespace kam::kafka {

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(
    const KafkaOptions& options, std::string group_id, std::vector<std::string> topics,
    const Store* store, MembershipOptions membership) {
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer(store));
  // Eager `range`: keeps the same partition number of co-partitioned topics on one member, and
  // avoids librdkafka 2.0's cooperative-sticky bugs (a commit during a rebalance loses the
  // assignment, #4059; resume rewinds, #4686).
  std::vector<std::pair<std::string, std::string>> properties = {
      {"group.id", group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"partition.assignment.strategy", "range"},
      {"session.timeout.ms", std::to_string(membership.session_timeout_ms)},
      {"heartbeat.interval.ms", std::to_string(std::max(membership.session_timeout_ms / 5, 500))}};
  if (!membership.instance_id.empty()) {
    properties.emplace_back("group.instance.id", membership.instance_id);
  }
  KafkaOptions member_options = options;
  if (!membership.advertised_address.empty()) {
    member_options.client_id =
        absl::StrCat(membership.service_name, "@", membership.advertised_address);
  }
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewConf(member_options, properties));
  rd_kafka_conf_set_rebalance_cb(conf, &KafkaConsumer::OnRebalance);
  rd_kafka_conf_set_opaque(conf, consumer.get());
  KAM_ASSIGN_OR_RETURN(consumer->consumer_, NewHandle(RD_KAFKA_CONSUMER, conf));
  KAM_RETURN_IF_ERROR(
      FromKafka(rd_kafka_poll_set_consumer(consumer->consumer_.get()), "poll_set_consumer"));
  rd_kafka_topic_partition_list_t* subscription =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(subscription, topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer->consumer_.get(), subscription);
  rd_kafka_topic_partition_list_destroy(subscription);
  KAM_RETURN_IF_ERROR(FromKafka(err, "subscribe"));
  return consumer;
}

KafkaConsumer::~KafkaConsumer() {
  if (!consumer_) return;
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer_.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    log::Warn("consumer close failed", {{"error", rd_kafka_err2str(err)}});
  }
}

absl::Status KafkaConsumer::AssignFromStore(rd_kafka_topic_partition_list_t* partitions) {
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& tp = partitions->elems[i];
    KAM_ASSIGN_OR_RETURN(std::optional<int64_t> next,
                         LoadNextOffset(*store_, tp.topic, tp.partition));
    tp.offset = next ? *next : RD_KAFKA_OFFSET_BEGINNING;
    log::Info("partition assigned", {{"topic", tp.topic},
                                     {"partition", std::to_string(tp.partition)},
                                     {"offset", next ? std::to_string(*next) : "beginning"}});
  }
  return FromKafka(rd_kafka_assign(consumer_.get(), partitions), "assign");
}

void KafkaConsumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  MutexLockMaybe writers(self->rebalance_lock_.load());
  AssignmentChange& change = self->changes_.emplace_back();
  change.generation = ++self->assignment_generation_;
  change.assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  std::vector<int32_t>& numbers = change.tasks;
  for (int i = 0; i < partitions->cnt; ++i) {
    int32_t number = partitions->elems[i].partition;
    if (std::find(numbers.begin(), numbers.end(), number) == numbers.end()) {
      numbers.push_back(number);
    }
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    absl::Status status = self->AssignFromStore(partitions);
    // Without our offsets we would re-apply or skip records: stop rather than guess.
    if (!status.ok())
      log::Fatal("assign from stored offsets failed", {{"error", status.ToString()}});
    self->KeepAssignmentMetadata(rk);
  } else {
    self->ForgetAssignmentMetadata();
    // Revoked: everything applied is already in RocksDB with its offset; nothing to flush.
    rd_kafka_resp_err_t unassign = rd_kafka_assign(rk, nullptr);
    if (unassign != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log::Warn("unassign failed", {{"error", rd_kafka_err2str(unassign)}});
    }
  }
}

void KafkaConsumer::KeepAssignmentMetadata(rd_kafka_t* rk) {
  rd_kafka_consumer_group_metadata_t* metadata = rd_kafka_consumer_group_metadata(rk);
  if (metadata == nullptr) {
    // An assignment delivered while the consumer closes: its group handle is gone. Without
    // metadata no transaction commits for it (TransactionalCommitter refuses), which is right for
    // a consumer on its way out.
    log::Warn("assignment without group metadata (consumer closing); its work will not commit");
    ForgetAssignmentMetadata();
    return;
  }
  void* buffer = nullptr;
  size_t size = 0;
  rd_kafka_error_t* error = rd_kafka_consumer_group_metadata_write(metadata, &buffer, &size);
  rd_kafka_consumer_group_metadata_destroy(metadata);
  if (error != nullptr) {
    // Cannot fence this assignment's transactions: stop rather than risk publishing twice.
    log::Fatal("group metadata not serializable", {{"error", rd_kafka_error_string(error)}});
  }
  MutexLock lock(&metadata_mutex_);
  assignment_metadata_.assign(static_cast<const char*>(buffer), size);
  rd_kafka_mem_free(nullptr, buffer);
}

void KafkaConsumer::ForgetAssignmentMetadata() {
  MutexLock lock(&metadata_mutex_);
  assignment_metadata_.clear();
}

rd_kafka_consumer_group_metadata_t* KafkaConsumer::AssignmentMetadata() {
  MutexLock lock(&metadata_mutex_);
  if (assignment_metadata_.empty()) return nullptr;
  rd_kafka_consumer_group_metadata_t* metadata = nullptr;
  rd_kafka_error_t* error = rd_kafka_consumer_group_metadata_read(
      &metadata, assignment_metadata_.data(), assignment_metadata_.size());
  if (error != nullptr) {
    log::Fatal("group metadata not readable", {{"error", rd_kafka_error_string(error)}});
  }
  return metadata;
}

std::optional<std::string> KafkaConsumer::FatalError() const {
  char reason[512];
  rd_kafka_resp_err_t code = rd_kafka_fatal_error(consumer_.get(), reason, sizeof(reason));
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  return absl::StrCat(rd_kafka_err2name(code), ": ", reason);
}

namespace {

// Takes one message: a record, nullopt for "nothing to hand over", or a consume error to report.
absl::StatusOr<std::optional<ConsumedRecord>> TakeMessage(rd_kafka_message_t* message) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_resp_err_t err = message->err;
    rd_kafka_message_destroy(message);
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
    absl::Status status = FromKafka(err, "consume");
    if (absl::IsUnavailable(status)) {
      log::Warn("consume error; will retry", {{"error", status.ToString()}});
      return std::nullopt;
    }
    return status;
  }
  ConsumedRecord record;
  record.topic = rd_kafka_topic_name(message->rkt);
  record.partition = message->partition;
  record.offset = message->offset;
  if (message->key) record.key.assign(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) {
    record.value.assign(static_cast<const char*>(message->payload), message->len);
  }
  rd_kafka_timestamp_type_t type;
  record.timestamp_ms = rd_kafka_message_timestamp(message, &type);
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  const void* trace = nullptr;
  size_t trace_size = 0;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      rd_kafka_header_get_last(headers, kafka_topics::kTraceparentHeader, &trace, &trace_size) ==
          RD_KAFKA_RESP_ERR_NO_ERROR &&
      trace != nullptr) {
    record.traceparent.assign(static_cast<const char*>(trace), trace_size);
  }
  rd_kafka_message_destroy(message);
  return std::optional<ConsumedRecord>(std::move(record));
}

}  // namespace

absl::StatusOr<size_t> KafkaConsumer::PollGroup(int timeout_ms, size_t max_records,
                                                const Handler& handler) {
  std::vector<ConsumedRecord> group;
  uint64_t generation = assignment_generation_;
  int wait_ms = timeout_ms;
  while (group.size() < max_records) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), wait_ms);
    if (assignment_generation_ != generation) {
      // Positions were reset from the store: what was collected before will be read again.
      group.clear();
      generation = assignment_generation_;
    }
    if (message == nullptr) break;
    absl::StatusOr<std::optional<ConsumedRecord>> record = TakeMessage(message);
    if (!record.ok()) {
      if (!group.empty()) RewindToStore(group);
      return record.status();
    }
    if (*record) group.push_back(std::move(**record));
    // After the first record, take only what has already arrived.
    if (!group.empty()) wait_ms = 0;
  }
  if (group.empty()) return 0;
  absl::Status status = handler(group);
  if (!status.ok()) {
    RewindToStore(group);
    return status;
  }
  return group.size();
}

void KafkaConsumer::RewindToStore(const std::vector<ConsumedRecord>& records) {
  rd_kafka_topic_partition_list_t* positions = rd_kafka_topic_partition_list_new(1);
  for (const ConsumedRecord& record : records) {
    if (rd_kafka_topic_partition_list_find(positions, record.topic.c_str(), record.partition)) {
      continue;
    }
    absl::StatusOr<std::optional<int64_t>> next =
        LoadNextOffset(*store_, record.topic, record.partition);
    // Unreadable store: fall back to the group's first record of the partition, which is never
    // past what was committed.
    int64_t offset = next.ok() && next->has_value() ? **next : record.offset;
    rd_kafka_topic_partition_list_add(positions, record.topic.c_str(), record.partition)->offset =
        offset;
  }
  rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_.get(), positions, 5000);
  rd_kafka_topic_partition_list_destroy(positions);
  if (error != nullptr) {
    log::Warn("seek back failed", {{"error", rd_kafka_error_string(error)}});
    rd_kafka_error_destroy(error);
  }
}

void KafkaConsumer::SeekToStored(int32_t task) {
  std::vector<ConsumedRecord> positions;
  for (const auto& [topic, partition] : Assignment()) {
    if (partition != task) continue;
    ConsumedRecord at;
    at.topic = topic;
    at.partition = partition;
    absl::StatusOr<std::optional<int64_t>> next = LoadNextOffset(*store_, topic, partition);
    at.offset = next.ok() && next->has_value() ? **next : 0;
    positions.push_back(std::move(at));
  }
  if (!positions.empty()) RewindToStore(positions);
}

std::optional<int64_t> KafkaConsumer::Position(const std::string& topic, int32_t partition) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  std::optional<int64_t> position;
  if (rd_kafka_position(consumer_.get(), list) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      list->elems[0].offset >= 0) {
    position = list->elems[0].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  return position;
}

std::vector<AssignmentChange> KafkaConsumer::TakeAssignmentChanges() {
  return std::exchange(changes_, {});
}

absl::StatusOr<int64_t> KafkaConsumer::EndOffset(const std::string& topic, int32_t partition,
                                                 int timeout_ms) {
  return kafka::EndOffset(consumer_.get(), topic, partition, timeout_ms);
}

std::vector<KafkaConsumer::PartitionLag> KafkaConsumer::Lag() const {
  std::vector<PartitionLag> lags;
  rd_kafka_topic_partition_list_t* partitions = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &partitions) != RD_KAFKA_RESP_ERR_NO_ERROR) return lags;
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& partition = partitions->elems[i];
    // Applied, not fetched: the offset stored with the state. Records polled but dropped (a task
    // still restoring) or undone (an aborted batch) are still to do.
    absl::StatusOr<std::optional<int64_t>> applied =
        LoadNextOffset(*store_, partition.topic, partition.partition);
    int64_t low = 0;
    int64_t end = 0;
    // The high watermark the last fetch reported, without a broker round trip: asking the
    // broker (ListOffsets) queues behind the consumer's long-polling fetches, seconds per scrape.
    if (!applied.ok() ||
        rd_kafka_get_watermark_offsets(consumer_.get(), partition.topic, partition.partition, &low,
                                       &end) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        end < 0) {
      continue;
    }
    lags.push_back(
        {partition.topic, partition.partition, std::max<int64_t>(0, end - applied->value_or(0))});
  }
  rd_kafka_topic_partition_list_destroy(partitions);
  return lags;
}

std::vector<std::pair<std::string, int32_t>> KafkaConsumer::Assignment() const {
  std::vector<std::pair<std::string, int32_t>> result;
  rd_kafka_topic_partition_list_t* partitions = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &partitions) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return result;
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    result.emplace_back(partitions->elems[i].topic, partitions->elems[i].partition);
  }
  rd_kafka_topic_partition_list_destroy(partitions);
  return result;
}

}  // namespace kam::kafka
