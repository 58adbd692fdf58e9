// Scale-out benchmark helper for bench/run-scale-bench, which runs kam-alerts instances as
// processes against a throw-away broker:
//   kam-bench-scale fill --brokers B [--accounts N] [--interactions M]
//       writes the book (bench/book_fill.h) and prints the bare consumer's rate (the ceiling);
//   kam-bench-scale drain --brokers B --group G
//       waits until consumer group G has committed the end of every partition of kam.accounts.v1
//       and kam.interactions.v1 and prints the group's rate from its first commit to its last.
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "bench/book_fill.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/kafka/kafka_common.h"
#include "tests/testing/topic_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

// The offsets `group` has committed on partitions 0..2 of `topics`, summed; one handle for every
// query (a handle per query would load the broker and the 2 cores the instances run on).
class CommittedReader {
 public:
  CommittedReader(const std::string& brokers, const std::string& group,
                  std::vector<std::string> topics)
      : topics_(std::move(topics)) {
    kam::kafka::KafkaOptions options;
    options.brokers = brokers;
    auto conf = kam::kafka::NewConf(options, {{"group.id", group}, {"enable.auto.commit", "false"}});
    if (conf.ok()) {
      auto handle = kam::kafka::NewHandle(RD_KAFKA_CONSUMER, *conf);
      if (handle.ok()) consumer_ = std::move(*handle);
    }
  }
  ~CommittedReader() {
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
  }
  int64_t Sum() {
    if (!consumer_) return -1;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(12);
    for (const auto& topic : topics_) {
      for (int32_t p = 0; p < 3; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
    }
    int64_t sum = 0;
    if (rd_kafka_committed(consumer_.get(), list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < list->cnt; ++i) sum += std::max<int64_t>(0, list->elems[i].offset);
    }
    rd_kafka_topic_partition_list_destroy(list);
    return sum;
  }

 private:
  std::vector<std::string> topics_;
  kam::kafka::HandlePtr consumer_;
};

int Drain(const std::string& brokers, const std::string& group, int timeout_seconds) {
  const std::vector<std::string> inputs = {kam::kafka_topics::kAccounts,
                                           kam::kafka_topics::kInteractions};
  int64_t total = 0;
  for (const auto& topic : inputs) {
    for (const auto& [partition, end] : kam::testing::EndOffsets(brokers, topic)) total += end;
  }
  CommittedReader reader(brokers, group, inputs);
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  std::optional<std::pair<Clock::time_point, int64_t>> first;
  while (Clock::now() < deadline) {
    const int64_t committed = reader.Sum();
    const auto now = Clock::now();
    if (!first && committed > 0) first = {now, committed};
    if (committed >= total) {
      const double seconds = first ? std::chrono::duration<double>(now - first->first).count() : 0;
      const int64_t records = total - (first ? first->second : 0);
      std::printf("group %s: %lld input records committed; %lld of them in %.1f s after its first "
                  "commit = %.0f records/s\n",
                  group.c_str(), static_cast<long long>(total), static_cast<long long>(records),
                  seconds, seconds > 0 ? records / seconds : 0.0);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::fprintf(stderr, "group %s did not catch up within %d s\n", group.c_str(), timeout_seconds);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kam-bench-scale: fill a book, time a consumer group through it"};
  app.require_subcommand(1);
  std::string brokers, group;
  kam::bench::BookShape shape;
  int timeout_seconds = 900;
  auto* fill = app.add_subcommand("fill", "write the book and measure the bare consumer");
  fill->add_option("--brokers", brokers)->required();
  fill->add_option("--accounts", shape.accounts)->capture_default_str();
  fill->add_option("--interactions", shape.interactions)->capture_default_str();
  auto* drain = app.add_subcommand("drain", "wait for a group to commit every input record");
  drain->add_option("--brokers", brokers)->required();
  drain->add_option("--group", group)->required();
  drain->add_option("--timeout-seconds", timeout_seconds)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  kam::log::SetLevel(kam::log::Level::kWarn);
  if (fill->parsed()) {
    if (!kam::bench::FillBook(brokers, shape)) return 1;
    std::printf("bare librdkafka consumer (ceiling), interactions topic: %.0f records/s\n",
                kam::bench::BareConsume(brokers, kam::kafka_topics::kInteractions,
                                        shape.interactions));
    return 0;
  }
  return Drain(brokers, group, timeout_seconds);
}
