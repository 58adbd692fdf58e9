#include "common/kafka/transactional_committer.h"

#include <chrono>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/consumer_offsets.h"
#include "common/logging.h"

namespace kam::kafka {
namespace {

constexpr int kTimeoutMs = 30000;
constexpr int kRetries = 5;
constexpr int kFlushTimeoutMs = 10000;
// How long a failed transaction's abort waits for an unreachable cluster.
constexpr int kBrokerWaitSeconds = 60;

// The partition number a task key starts with (4 bytes big-endian).
int32_t TaskOf(std::string_view key) {
  return static_cast<int32_t>(DecodeUint64(std::string(4, '\0') + std::string(key.substr(0, 4))));
}

// Collects a WriteBatch's puts and deletes with their column family ids.
class BatchReader : public rocksdb::WriteBatch::Handler {
 public:
  struct Write {
    uint32_t cf;
    std::string key;
    std::optional<std::string> value;
  };
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    writes.push_back({cf, key.ToString(), value.ToString()});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    writes.push_back({cf, key.ToString(), std::nullopt});
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    return DeleteCF(cf, key);
  }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::NotSupported("a range delete cannot be changelogged key by key");
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::NotSupported("merge operands cannot be changelogged");
  }
  std::vector<Write> writes;
};

// Takes a librdkafka error: OK, or the status that says what to do.
absl::Status Take(rd_kafka_error_t* error, const std::string& what, bool* fatal, bool* abort,
                  bool* retriable) {
  *fatal = *abort = *retriable = false;
  if (error == nullptr) return absl::OkStatus();
  *fatal = rd_kafka_error_is_fatal(error);
  *abort = rd_kafka_error_txn_requires_abort(error);
  *retriable = rd_kafka_error_is_retriable(error);
  absl::Status status =
      absl::UnavailableError(absl::StrCat(what, ": ", rd_kafka_error_string(error)));
  rd_kafka_error_destroy(error);
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TransactionalCommitter>> TransactionalCommitter::Create(
    const KafkaOptions& options, const std::string& transactional_id, std::string producer_header,
    Store* store, KafkaConsumer* consumer, ChangelogSpec changelog) {
  std::unique_ptr<TransactionalCommitter> committer(new TransactionalCommitter(
      store, consumer, std::move(producer_header), std::move(changelog)));
  committer->options_ = options;
  committer->transactional_ids_[0] = transactional_id;
  // ':' occurs in no group name or instance id: no other instance's id can be this one.
  committer->transactional_ids_[1] = transactional_id + ":alt";
  for (int slot = 0; slot < kProducers; ++slot) KAM_RETURN_IF_ERROR(committer->NewProducer(slot));
  if (consumer != nullptr) committer->AttachConsumer(consumer);
  log::Info("transactional producers ready",
            {{"transactional_id", transactional_id},
             {"alternate_transactional_id", committer->transactional_ids_[1]}});
  return committer;
}

absl::Status TransactionalCommitter::NewProducer(int slot) {
  KAM_ASSIGN_OR_RETURN(
      rd_kafka_conf_t * conf,
      NewConf(options_,
              {{"transactional.id", transactional_ids_[slot]},
               {"enable.idempotence", "true"},
               {"acks", "all"},
               // A zombie's open transaction is aborted by the coordinator after this,
               // so a new owner's restore is not held up for long.
               {"transaction.timeout.ms", "10000"},
               // Requests to the coordinators give up before the transactional API calls
               // do (30 s): in librdkafka 2.0.2 a send_offsets_to_transaction that returns
               // while its request still waits asserts when that request times out later.
               {"socket.timeout.ms", "10000"},
               {"linger.ms", "1"},
               {"compression.type", "lz4"},
               // The same partitioner as the outbox relay: keyed order agrees.
               {"partitioner", "murmur2_random"}}));
  rd_kafka_conf_set_dr_msg_cb(conf, &TransactionalCommitter::OnDelivery);
  rd_kafka_conf_set_opaque(conf, this);
  // A producer that failed fatally is left alone, not destroyed: librdkafka 2.0.2 asserts
  // (rd_kafka_enq_once_del_source_return) destroying one whose coordinator requests timed out.
  // One handle per such failure (a broker outage that outlived a transaction), until exit.
  (void)producers_[slot].release();
  KAM_ASSIGN_OR_RETURN(producers_[slot], NewHandle(RD_KAFKA_PRODUCER, conf));
  bool fatal, abort, retriable;
  absl::Status initialised;
  for (int attempt = 0; attempt < kRetries; ++attempt) {
    initialised = Take(rd_kafka_init_transactions(producers_[slot].get(), kTimeoutMs),
                       "init transactions", &fatal, &abort, &retriable);
    if (initialised.ok() || !retriable) break;
  }
  return initialised;
}

void TransactionalCommitter::OnFatal(int slot, const absl::Status& status) {
  char reason[512];
  rd_kafka_resp_err_t code = rd_kafka_fatal_error(producers_[slot].get(), reason, sizeof(reason));
  if (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
      code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
    // Another process runs with this instance's transactional id (the same --instance-id twice).
    log::Fatal("lost the role: another instance with this transactional id took over",
               {{"error", status.ToString()}, {"reason", reason}});
  }
  // Anything else (the coordinator aborted a transaction that outlived a broker restart, ...)
  // only ends this producer: a new one continues; the group generation still fences this
  // instance if it lost its tasks meanwhile.
  log::Error("transactional producer failed; starting a new one",
             {{"error", status.ToString()},
              {"reason", reason},
              {"transactional_id", transactional_ids_[slot]}});
  absl::Status renewed = NewProducer(slot);
  if (!renewed.ok()) {
    log::Fatal("no new transactional producer; restart", {{"error", renewed.ToString()}});
  }
  ++producers_renewed_;
}

TransactionalCommitter::~TransactionalCommitter() {
  // The consumer may outlive this committer (its close revokes): no lock of ours in its callback.
  if (KafkaConsumer* consumer = consumer_.load()) consumer->SetRebalanceLock(nullptr);
}

void TransactionalCommitter::AttachConsumer(KafkaConsumer* consumer) {
  consumer_.store(consumer);
  consumer->SetRebalanceLock(&mutex_);
}

// Runs inside rd_kafka_poll/flush, which only RunTransaction calls, with mutex_ held.
void TransactionalCommitter::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message,
                                        void* opaque) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  auto* self = static_cast<TransactionalCommitter*>(opaque);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR || message->_private == nullptr) return;
  int64_t& next = self->delivered_[message->partition];
  next = std::max(next, message->offset + 1);
}

absl::StatusOr<std::vector<TransactionalCommitter::Record>> TransactionalCommitter::ChangelogOf(
    StagedBatch* batch) const {
  BatchReader reader;
  KAM_RETURN_IF_ERROR(FromRocks(
      static_cast<rocksdb::WriteBatchWithIndex*>(batch->batch())->GetWriteBatch()->Iterate(&reader),
      "read staged batch"));
  // A key written several times in the batch (one account's state, once per interaction of a
  // group) needs only its last value in the changelog: restore and compaction keep no other.
  std::vector<bool> superseded(reader.writes.size(), false);
  {
    std::map<std::pair<uint32_t, std::string_view>, size_t> last;
    for (size_t i = 0; i < reader.writes.size(); ++i) {
      auto [it, inserted] = last.try_emplace({reader.writes[i].cf, reader.writes[i].key}, i);
      if (!inserted) {
        superseded[it->second] = true;
        it->second = i;
      }
    }
  }
  std::vector<Record> records;
  for (size_t i = 0; i < reader.writes.size(); ++i) {
    if (superseded[i]) continue;
    BatchReader::Write& write = reader.writes[i];
    const std::string cf = store_->CfName(write.cf);
    int32_t task = -1;
    if (cf == kOffsetsCf) {
      const size_t separator = write.key.find('\0');
      if (separator == std::string::npos || write.key.size() != separator + 9) continue;
      task = static_cast<int32_t>(DecodeUint64(write.key.substr(separator + 1)));
    } else {
      bool task_state = false;
      for (const auto& name : changelog_.task_column_families) task_state |= name == cf;
      if (!task_state) continue;  // local only
      if (write.key.size() < 4) return absl::InternalError(absl::StrCat(cf, ": key without task"));
      task = TaskOf(write.key);
    }
    Record record;
    record.topic = changelog_.topic;
    record.partition = task;
    record.key = cf + std::string(1, '\0') + write.key;
    record.value = std::move(write.value);
    record.changelog = true;
    records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<rd_kafka_topic_partition_list_t*> TransactionalCommitter::OffsetsToSend(
    const InputOffsets& next_offsets) {
  InputOffsets offsets = next_offsets;
  KafkaConsumer* consumer = consumer_.load();
  if (consumer == nullptr) return absl::UnavailableError("not in the consumer group yet");
  for (const auto& [topic, partition] : consumer->Assignment()) {
    if (offsets.count({topic, partition})) continue;
    KAM_ASSIGN_OR_RETURN(std::optional<int64_t> stored, LoadNextOffset(*store_, topic, partition));
    // Nothing applied from it yet (kam-accounts' writer topic never has records): offset 0 still
    // carries the generation that fences the transaction.
    offsets[{topic, partition}] = stored.value_or(0);
  }
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [partition, next] : offsets) {
    rd_kafka_topic_partition_list_add(list, partition.first.c_str(), partition.second)->offset =
        next;
  }
  return list;
}

absl::Status TransactionalCommitter::Produce(rd_kafka_t* producer, const Record& record) {
  while (true) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(3);
    rd_kafka_header_add(headers, kafka_topics::kProducerHeader, -1, producer_header_.data(),
                        static_cast<ssize_t>(producer_header_.size()));
    if (!record.event_id.empty()) {
      rd_kafka_header_add(headers, kafka_topics::kEventIdHeader, -1, record.event_id.data(),
                          static_cast<ssize_t>(record.event_id.size()));
    }
    if (!record.traceparent.empty()) {
      rd_kafka_header_add(headers, kafka_topics::kTraceparentHeader, -1, record.traceparent.data(),
                          static_cast<ssize_t>(record.traceparent.size()));
    }
    void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
    const size_t size = record.value ? record.value->size() : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(record.topic.c_str()),
        RD_KAFKA_V_PARTITION(record.partition >= 0 ? record.partition : RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_KEY(record.key.data(), record.key.size()), RD_KAFKA_V_VALUE(value, size),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(record.changelog ? this : nullptr), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    rd_kafka_headers_destroy(headers);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return FromKafka(err, "produce in transaction");
    rd_kafka_poll(producer, 10);
  }
}

namespace {

// Times the steps of one transaction for the step observer, if there is one.
class StepClock {
 public:
  explicit StepClock(const TransactionalCommitter::StepObserver& observer)
      : observer_(observer), last_(std::chrono::steady_clock::now()) {}
  void Lap(TransactionStep step) {
    if (!observer_) return;
    const auto now = std::chrono::steady_clock::now();
    observer_(step, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  const TransactionalCommitter::StepObserver& observer_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace

absl::Status TransactionalCommitter::RunTransaction(const std::vector<Record>& records,
                                                    const InputOffsets& next_offsets) {
  const int slot = turn_;
  turn_ = (turn_ + 1) % kProducers;
  rd_kafka_t* producer = producers_[slot].get();
  bool fatal, abort, retriable;
  auto fail = [&](absl::Status status) -> absl::Status {
    if (fatal) {
      OnFatal(slot, status);
      ++aborted_total_;
      return status;
    }
    // librdkafka 2.0.2 asserts (rd_kafka_enq_once_del_source_return) when an abort's requests to
    // the transaction coordinator time out: abort only once the cluster answers again. Callers
    // meanwhile get their deadline; nothing of the transaction is visible.
    for (int waited = 0; waited < kBrokerWaitSeconds; ++waited) {
      const rd_kafka_metadata_t* metadata = nullptr;
      if (rd_kafka_metadata(producer, 0, nullptr, &metadata, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(metadata);
        break;
      }
      if (waited == 0)
        log::Warn(
            "transaction failed and the cluster does not answer; the abort "
            "waits for it",
            {{"error", status.ToString()}});
    }
    bool abort_fatal, ignored_abort, ignored_retriable;
    absl::Status aborted =
        Take(rd_kafka_abort_transaction(producer, kTimeoutMs), "abort transaction", &abort_fatal,
             &ignored_abort, &ignored_retriable);
    if (abort_fatal) OnFatal(slot, aborted);
    ++aborted_total_;
    log::Warn("transaction aborted; nothing of it is visible, the batch is retried",
              {{"error", status.ToString()}, {"abort", aborted.ToString()}});
    return status;
  };
  StepClock clock(step_observer_);
  absl::Status status =
      Take(rd_kafka_begin_transaction(producer), "begin transaction", &fatal, &abort, &retriable);
  if (!status.ok()) {
    if (fatal) {
      OnFatal(slot, status);
      return status;
    }
    // A previous abort of this producer did not finish (the cluster was unreachable): finish it
    // now, once the cluster answers, or this slot would refuse every other transaction.
    return fail(status);
  }
  for (const Record& record : records) {
    status = Produce(producer, record);
    if (!status.ok()) {
      fatal = false;
      return fail(status);
    }
  }
  clock.Lap(TransactionStep::kProduce);
  // Delivered before the offsets go to the group coordinator: with the cluster unreachable the
  // transaction fails here, not inside send_offsets_to_transaction, whose requests librdkafka
  // 2.0.2 cannot time out safely (it asserts). The commit would flush anyway.
  if (rd_kafka_flush(producer, kFlushTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fatal = false;
    return fail(absl::UnavailableError(
        "the cluster did not take the transaction's records in time; nothing of it is visible"));
  }
  clock.Lap(TransactionStep::kFlush);
  absl::StatusOr<rd_kafka_topic_partition_list_t*> to_send = OffsetsToSend(next_offsets);
  if (!to_send.ok()) {
    fatal = false;
    return fail(to_send.status());  // the transaction is open: abort it, never leave it hanging
  }
  rd_kafka_topic_partition_list_t* offsets = *to_send;
  // Fencing needs offsets sent with the generation of the assignment this work belongs to: a
  // transaction with nothing to fence it (no assignment, no partitions) is not committed.
  rd_kafka_consumer_group_metadata_t* group = consumer_.load()->AssignmentMetadata();
  if (offsets->cnt == 0 || group == nullptr) {
    rd_kafka_topic_partition_list_destroy(offsets);
    if (group != nullptr) rd_kafka_consumer_group_metadata_destroy(group);
    fatal = false;
    return fail(absl::FailedPreconditionError(
        "no assigned partitions to fence the transaction with: this instance owns no task"));
  }
  {
    for (int attempt = 0; attempt < kRetries; ++attempt) {
      status = Take(rd_kafka_send_offsets_to_transaction(producer, offsets, group, kTimeoutMs),
                    "send offsets to transaction", &fatal, &abort, &retriable);
      if (status.ok() || !retriable || abort || fatal) break;
    }
    rd_kafka_consumer_group_metadata_destroy(group);
  }
  rd_kafka_topic_partition_list_destroy(offsets);
  if (!status.ok()) {
    // A stale group generation lands here: this instance no longer owns the partitions.
    log::Warn("offsets refused in transaction: this instance may have lost its partitions",
              {{"error", status.ToString()}});
    return fail(status);
  }
  clock.Lap(TransactionStep::kOffsets);
  for (int attempt = 0; attempt < kRetries; ++attempt) {
    status = Take(rd_kafka_commit_transaction(producer, kTimeoutMs), "commit transaction", &fatal,
                  &abort, &retriable);
    if (status.ok() || !retriable || abort || fatal) break;
  }
  if (!status.ok()) return fail(status);
  rd_kafka_poll(producer, 0);  // delivery reports not yet served by the commit's flush
  clock.Lap(TransactionStep::kCommit);
  ++transactions_total_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TransactionalCommitter::Record>> TransactionalCommitter::RecordsOf(
    StagedBatch* batch, std::vector<OutboundEvent> events) const {
  std::vector<Record> records;
  for (auto& event : events) {
    Record record;
    record.topic = event.topic;
    record.key = event.key;
    record.value =
        event.envelope ? event.envelope->SerializeAsString() : std::move(event.raw_value);
    record.event_id = event.event_id;
    record.traceparent = std::move(event.traceparent);
    records.push_back(std::move(record));
  }
  KAM_ASSIGN_OR_RETURN(std::vector<Record> changelog, ChangelogOf(batch));
  for (auto& record : changelog) records.push_back(std::move(record));
  return records;
}

absl::Status TransactionalCommitter::Commit(StagedBatch* batch, std::vector<OutboundEvent> events,
                                            const InputOffsets& next_offsets) {
  KAM_RETURN_IF_ERROR(PutInputOffsets(store_, batch, next_offsets));
  if (batch->Count() == 0 && events.empty()) return absl::OkStatus();
  KAM_ASSIGN_OR_RETURN(std::vector<Record> records, RecordsOf(batch, std::move(events)));
  MutexLock lock(&mutex_);
  return CommitLocked(batch, records, next_offsets);
}

absl::Status TransactionalCommitter::CommitOwned(StagedBatch* batch,
                                                 std::vector<OutboundEvent> events,
                                                 uint64_t generation) {
  if (batch->Count() == 0 && events.empty()) return absl::OkStatus();
  KAM_ASSIGN_OR_RETURN(std::vector<Record> records, RecordsOf(batch, std::move(events)));
  MutexLock lock(&mutex_);
  if (consumer_.load() == nullptr || consumer_.load()->rebalances() != generation) {
    return absl::UnavailableError(
        "the partition moved to another instance during the call (a consumer-group rebalance); "
        "nothing was stored: retry, with the same request_id to make the retry safe");
  }
  return CommitLocked(batch, records, {});
}

absl::Status TransactionalCommitter::CommitLocked(StagedBatch* batch,
                                                  const std::vector<Record>& records,
                                                  const InputOffsets& next_offsets) {
  delivered_.clear();
  KAM_RETURN_IF_ERROR(RunTransaction(records, next_offsets));
  // Committed in Kafka: now the local store, with where it stands in the changelog.
  for (const auto& [partition, next] : delivered_) {
    KAM_RETURN_IF_ERROR(
        FromRocks(batch->batch()->Put(store_->Cf(kMetaCf), ChangelogCheckpointKey(partition),
                                      EncodeUint64(static_cast<uint64_t>(next))),
                  "checkpoint put"));
  }
  absl::Status written = store_->Write(batch->batch());
  if (!written.ok()) {
    // The changelog holds what the store does not: restart and restore rather than go on with a
    // store that is no longer a prefix of the changelog.
    log::Fatal(
        "local write after a committed transaction failed; restart restores from the "
        "changelog",
        {{"error", written.ToString()}});
  }
  return absl::OkStatus();
}

}  // namespace kam::kafka
