#include "tests/testing/topic_reader.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <set>

#include "common/kafka/kafka_common.h"

namespace kam::testing {

std::vector<TopicRecord> ReadTopic(const std::string& brokers, const std::string& topic) {
  std::vector<TopicRecord> records;
  kafka::KafkaOptions options;
  options.brokers = brokers;
  auto conf = kafka::NewConf(options, {{"group.id", "kam-test-reader"},
                                       {"enable.auto.commit", "false"},
                                       {"enable.partition.eof", "true"}});
  if (!conf.ok()) return records;
  auto consumer = kafka::NewHandle(RD_KAFKA_CONSUMER, *conf);
  if (!consumer.ok()) return records;
  auto partitions = kafka::PartitionCount(consumer->get(), topic, 10000);
  if (!partitions.ok()) return records;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(*partitions);
  int remaining = 0;
  std::map<int32_t, int64_t> ends;
  for (int32_t p = 0; p < *partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(consumer->get(), topic.c_str(), p, &low, &high, 10000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;
    }
    if (high > low) {
      ends[p] = high;
      ++remaining;
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = low;
    }
  }
  rd_kafka_assign(consumer->get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::set<int32_t> done;
  auto finished = [&](int32_t partition) {
    if (done.insert(partition).second) --remaining;
  };
  while (remaining > 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer->get(), 200);
    if (message == nullptr) continue;
    // A transactional topic ends with a commit marker, which is never delivered: its end is the
    // end-of-partition event (at the last stable offset), not a record at the high watermark.
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) finished(message->partition);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      TopicRecord record;
      record.partition = message->partition;
      record.offset = message->offset;
      if (message->key) record.key.assign(static_cast<char*>(message->key), message->key_len);
      if (message->payload) record.value.assign(static_cast<char*>(message->payload), message->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          record.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      if (message->offset + 1 >= ends[message->partition]) finished(message->partition);
      records.push_back(std::move(record));
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer->get());
  return records;
}

bool ProduceRecords(const std::string& brokers, const std::string& topic, int32_t partition,
                    const std::vector<std::pair<std::string, std::string>>& records) {
  kafka::KafkaOptions options;
  options.brokers = brokers;
  auto conf = kafka::NewConf(options, {{"enable.idempotence", "true"}, {"linger.ms", "5"}});
  if (!conf.ok()) return false;
  int failed = 0;
  rd_kafka_conf_set_opaque(*conf, &failed);
  rd_kafka_conf_set_dr_msg_cb(*conf,
                              [](rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
                                if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
                                  ++*static_cast<int*>(opaque);
                              });
  auto producer = kafka::NewHandle(RD_KAFKA_PRODUCER, *conf);
  if (!producer.ok()) return false;
  for (const auto& [key, value] : records) {
    while (rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer->get(), 50);
    }
  }
  return rd_kafka_flush(producer->get(), 60000) == RD_KAFKA_RESP_ERR_NO_ERROR && failed == 0;
}

std::map<int32_t, int64_t> EndOffsets(const std::string& brokers, const std::string& topic) {
  std::map<int32_t, int64_t> ends;
  kafka::KafkaOptions options;
  options.brokers = brokers;
  auto conf = kafka::NewConf(options, {});
  if (!conf.ok()) return ends;
  auto handle = kafka::NewHandle(RD_KAFKA_PRODUCER, *conf);
  if (!handle.ok()) return ends;
  auto partitions = kafka::PartitionCount(handle->get(), topic, 10000);
  if (!partitions.ok()) return ends;
  for (int32_t p = 0; p < *partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(handle->get(), topic.c_str(), p, &low, &high, 10000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return {};
    }
    ends[p] = high;
  }
  return ends;
}

}  // namespace kam::testing
