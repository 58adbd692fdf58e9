#pragma once

// The outbox relay's view of Kafka, over librdkafka: an idempotent producer (acks=all, no message
// timeout, so a broker outage delays events but never drops them) and a tail reader that finds
// the highest kam-seq this producer already wrote to each partition.

#include <atomic>
#include <map>
#include <string>

#include "common/kafka/kafka_common.h"
#include "common/outbox_relay.h"

namespace kam::kafka {

class KafkaPublisher : public EventPublisher {
 public:
  // `producer_name` goes into the kam-producer header; the tail reader only trusts its own.
  static absl::StatusOr<std::unique_ptr<KafkaPublisher>> Create(const KafkaOptions& options,
                                                                std::string producer_name,
                                                                const std::atomic<bool>* stop);

  absl::StatusOr<int32_t> PartitionFor(const std::string& topic, std::string_view key) override;
  absl::StatusOr<std::map<int32_t, uint64_t>> PublishedSequences(const std::string& topic) override;
  absl::Status Publish(const std::vector<PublishRecord>& records,
                       std::vector<bool>* delivered) override;

 private:
  KafkaPublisher(KafkaOptions options, std::string producer_name, const std::atomic<bool>* stop)
      : options_(std::move(options)), producer_name_(std::move(producer_name)), stop_(stop) {}
  absl::Status ResetProducer();
  absl::StatusOr<uint64_t> TailSequence(rd_kafka_t* consumer, const std::string& topic,
                                        int32_t partition, int64_t low, int64_t high);

  KafkaOptions options_;
  std::string producer_name_;
  const std::atomic<bool>* stop_;
  HandlePtr producer_;
  std::map<std::string, int32_t> partition_counts_;
};

}  // namespace kam::kafka
