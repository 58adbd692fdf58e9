#include "common/kafka/publisher.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam::kafka {
namespace {

constexpr int kMetadataTimeoutMs = 10000;
// How many records back from the end the tail reader looks at a time.
constexpr int64_t kTailWindow = 512;

struct Delivery {
  std::vector<bool>* delivered;
  size_t index;
  size_t* pending;
  rd_kafka_resp_err_t* first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* delivery = static_cast<Delivery*>(message->_private);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    (*delivery->delivered)[delivery->index] = true;
  } else if (*delivery->first_error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    *delivery->first_error = message->err;
  }
  --*delivery->pending;
}

bool HeaderValue(const rd_kafka_message_t* message, const char* name, std::string* out) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  out->assign(static_cast<const char*>(value), size);
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Create(
    const KafkaOptions& options, std::string producer_name, const std::atomic<bool>* stop) {
  std::unique_ptr<KafkaPublisher> publisher(
      new KafkaPublisher(options, std::move(producer_name), stop));
  KAM_RETURN_IF_ERROR(publisher->ResetProducer());
  return publisher;
}

absl::Status KafkaPublisher::ResetProducer() {
  producer_.reset();
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                       NewConf(options_, {
                                             {"enable.idempotence", "true"},
                                             {"acks", "all"},
                                             // Never give up on a message: the outbox holds it
                                             // anyway, and a timeout could reorder a partition.
                                             {"message.timeout.ms", "0"},
                                             {"linger.ms", "5"},
                                             {"compression.type", "lz4"},
                                         }));
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  KAM_ASSIGN_OR_RETURN(producer_, NewHandle(RD_KAFKA_PRODUCER, conf));
  return absl::OkStatus();
}

absl::StatusOr<int32_t> KafkaPublisher::PartitionFor(const std::string& topic,
                                                     std::string_view key) {
  auto it = partition_counts_.find(topic);
  if (it == partition_counts_.end()) {
    KAM_ASSIGN_OR_RETURN(int32_t count, PartitionCount(producer_.get(), topic, kMetadataTimeoutMs));
    it = partition_counts_.emplace(topic, count).first;
  }
  // Kafka's default partitioner (Java clients agree on it), so keyed order holds for any client.
  return PartitionOfKey(key, it->second);
}

absl::StatusOr<uint64_t> KafkaPublisher::TailSequence(rd_kafka_t* consumer,
                                                      const std::string& topic, int32_t partition,
                                                      int64_t low, int64_t high) {
  // Walk back from the end a window at a time until a record of ours turns up.
  for (int64_t end = high; end > low;) {
    int64_t start = std::max(low, end - kTailWindow);
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = start;
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    KAM_RETURN_IF_ERROR(FromKafka(err, "tail reader assign"));

    uint64_t highest = 0;
    int64_t next = start;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (next < end) {
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::UnavailableError(
            absl::StrCat("tail read of ", topic, "/", partition, " timed out at offset ", next));
      }
      // A long tail must not hold up a shutdown (the relay reads it again at the next start).
      if (stop_ != nullptr && stop_->load()) {
        return absl::CancelledError(absl::StrCat("tail read of ", topic, "/", partition,
                                                 " stopped: the service is stopping"));
      }
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 500);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // Control records (none today) can end the log below `end`.
        rd_kafka_message_destroy(message);
        break;
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        absl::Status status = FromKafka(message->err, "tail read");
        rd_kafka_message_destroy(message);
        return status;
      }
      next = message->offset + 1;
      std::string producer;
      std::string sequence_text;
      uint64_t sequence = 0;
      if (HeaderValue(message, kafka_topics::kProducerHeader, &producer) &&
          producer == producer_name_ &&
          HeaderValue(message, kafka_topics::kSequenceHeader, &sequence_text) &&
          absl::SimpleAtoi(sequence_text, &sequence)) {
        highest = std::max(highest, sequence);
      }
      rd_kafka_message_destroy(message);
    }
    KAM_RETURN_IF_ERROR(FromKafka(rd_kafka_assign(consumer, nullptr), "tail reader unassign"));
    if (highest > 0) return highest;
    end = start;
  }
  return 0;
}

absl::StatusOr<std::map<int32_t, uint64_t>> KafkaPublisher::PublishedSequences(
    const std::string& topic) {
  KAM_ASSIGN_OR_RETURN(int32_t partitions,
                       PartitionCount(producer_.get(), topic, kMetadataTimeoutMs));
  partition_counts_[topic] = partitions;
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                       NewConf(options_, {{"group.id", absl::StrCat(producer_name_, ".tail")},
                                          {"enable.auto.commit", "false"},
                                          {"enable.partition.eof", "true"},
                                          // Never skip uncommitted transactional data.
                                          {"isolation.level", "read_uncommitted"}}));
  KAM_ASSIGN_OR_RETURN(HandlePtr consumer, NewHandle(RD_KAFKA_CONSUMER, conf));
  std::map<int32_t, uint64_t> result;
  for (int32_t partition = 0; partition < partitions; ++partition) {
    int64_t low = 0;
    int64_t high = 0;
    KAM_RETURN_IF_ERROR(
        FromKafka(rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), partition, &low,
                                                   &high, kMetadataTimeoutMs),
                  absl::StrCat("watermarks ", topic, "/", partition)));
    uint64_t sequence = 0;
    if (high > low) {
      KAM_ASSIGN_OR_RETURN(sequence, TailSequence(consumer.get(), topic, partition, low, high));
    }
    result[partition] = sequence;
  }
  rd_kafka_consumer_close(consumer.get());
  return result;
}

absl::Status KafkaPublisher::Publish(const std::vector<PublishRecord>& records,
                                     std::vector<bool>* delivered) {
  delivered->assign(records.size(), false);
  if (rd_kafka_fatal_error(producer_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    KAM_RETURN_IF_ERROR(ResetProducer());
  }
  size_t pending = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::vector<Delivery> deliveries(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const PublishRecord& record = records[i];
    deliveries[i] = Delivery{delivered, i, &pending, &first_error};
    std::string sequence = std::to_string(record.sequence);
    rd_kafka_headers_t* headers = rd_kafka_headers_new(4);
    rd_kafka_header_add(headers, kafka_topics::kProducerHeader, -1, producer_name_.data(),
                        producer_name_.size());
    rd_kafka_header_add(headers, kafka_topics::kSequenceHeader, -1, sequence.data(),
                        sequence.size());
    rd_kafka_header_add(headers, kafka_topics::kEventIdHeader, -1, record.event_id.data(),
                        record.event_id.size());
    if (!record.traceparent.empty()) {
      rd_kafka_header_add(headers, kafka_topics::kTraceparentHeader, -1, record.traceparent.data(),
                          record.traceparent.size());
    }
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
          RD_KAFKA_V_PARTITION(record.partition),
          RD_KAFKA_V_KEY(const_cast<char*>(record.key.data()), record.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
          RD_KAFKA_V_OPAQUE(&deliveries[i]), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++pending;
        break;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_.get(), 50);
        continue;
      }
      rd_kafka_headers_destroy(headers);
      // Stop here: later records must not overtake this one within its partition.
      while (pending > 0) rd_kafka_poll(producer_.get(), 100);
      return FromKafka(err, absl::StrCat("produce to ", record.topic));
    }
  }
  // Wait for every report. A record in flight must not be produced again, so even on shutdown
  // we wait a bounded time and then drop the handle (the tail read at start sorts it out).
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  while (pending > 0) {
    rd_kafka_poll(producer_.get(), 100);
    if (stop_ != nullptr && stop_->load()) {
      if (stop_deadline == std::chrono::steady_clock::time_point::max()) {
        stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      } else if (std::chrono::steady_clock::now() > stop_deadline) {
        rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        // Purged records still get their (failed) reports; `deliveries` must outlive them.
        while (pending > 0) rd_kafka_poll(producer_.get(), 100);
        return absl::CancelledError("publisher stopping with records in flight");
      }
    }
  }
  if (first_error != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(first_error, "delivery");
  return absl::OkStatus();
}

}  // namespace kam::kafka
