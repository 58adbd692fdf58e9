#include "bench/book_fill.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/kafka/kafka_common.h"
#include "common/kafka_topics.h"
#include "common/time_util.h"
#include "kam/v1/events.pb.h"
#include "tests/testing/topic_reader.h"

namespace kam::bench {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

bool FillBook(const std::string& brokers, const BookShape& shape) {
  const int accounts = shape.accounts;
  const int interactions = shape.interactions;
  const bool noisy = shape.noisy;
  kam::kafka::KafkaOptions options;
  options.brokers = brokers;
  if (!kam::kafka::EnsureTopics(options,
                                {kam::kafka_topics::kAccounts, kam::kafka_topics::kManagers,
                                 kam::kafka_topics::kInteractions, kam::kafka_topics::kAlerts,
                                 kam::kafka_topics::kDeadLetter},
                                3, 30000)
           .ok()) {
    std::fprintf(stderr, "cannot create topics on %s\n", brokers.c_str());
    return false;
  }
  // Pre-fill: accounts, then a year of weekly survey answers and calls spread over them.
  const int64_t start = kam::MillisFromTimestamp(kam::NowTimestamp()) - 365LL * 86400000;
  std::vector<std::vector<std::pair<std::string, std::string>>> account_records(3),
      interaction_records(3);
  auto partition_of = [](const std::string& key) {
    return static_cast<int>(std::hash<std::string>()(key) % 3);
  };
  for (int a = 0; a < accounts; ++a) {
    std::string id = "acc_" + std::to_string(a);
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_time() = kam::TimestampFromMillis(start);
    auto* account = envelope.mutable_account_created()->mutable_account();
    account->set_id(id);
    account->set_name("Account " + id);
    account->set_tier(a % 10 == 0 ? kam::v1::TIER_A : kam::v1::TIER_C);
    // 40 accounts per manager, as in the stream benchmark's default book (2,000 over 50).
    account->set_owner_manager_id("mgr_" + std::to_string(a % std::max(1, accounts / 40)));
    account_records[partition_of(id)].emplace_back(id, envelope.SerializeAsString());
  }
  for (int i = 0; i < interactions; ++i) {
    std::string account = "acc_" + std::to_string(i % accounts);
    kam::v1::EventEnvelope envelope;
    auto* interaction = envelope.mutable_interaction_recorded()->mutable_interaction();
    interaction->set_id("int_" + std::to_string(i));
    interaction->set_account_id(account);
    int64_t at = start + static_cast<int64_t>(i / accounts) * 7 * 86400000LL;
    *interaction->mutable_occur_time() = kam::TimestampFromMillis(at);
    *envelope.mutable_time() = interaction->occur_time();
    if (i % 2 == 0) {
      interaction->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
      const int week = i / accounts;
      int nps;
      if (noisy) {
        nps = (week + i) % 11;  // every answer unrelated to the last: alerts churn
      } else if ((i % accounts) % 20 == 0) {
        nps = std::max(0, 9 - week * 8 / 52);  // one account in 20 slides over the year
      } else {
        nps = 8 + static_cast<int>(std::hash<int>()(i * 7919) % 3);  // steady, 8 to 10
      }
      interaction->mutable_survey()->set_nps(nps);
    } else {
      interaction->set_type(kam::v1::INTERACTION_TYPE_CALL);
      interaction->set_note("weekly call");
    }
    interaction_records[partition_of(account)].emplace_back(account, envelope.SerializeAsString());
  }
  auto fill_start = Clock::now();
  for (int p = 0; p < 3; ++p) {
    if (!kam::testing::ProduceRecords(brokers, kam::kafka_topics::kAccounts, p,
                                      account_records[p]) ||
        !kam::testing::ProduceRecords(brokers, kam::kafka_topics::kInteractions, p,
                                      interaction_records[p])) {
      std::fprintf(stderr, "pre-fill failed\n");
      return false;
    }
  }
  std::printf("pre-filled %d accounts and %d interactions in %.1f s\n", accounts, interactions,
              std::chrono::duration<double>(Clock::now() - fill_start).count());

  return true;
}

double BareConsume(const std::string& brokers, const std::string& topic, int64_t expected) {
  kafka::KafkaOptions options;
  options.brokers = brokers;
  auto conf = kafka::NewConf(options, {{"group.id", "bench-bare"},
                                            {"enable.auto.commit", "false"},
                                            {"auto.offset.reset", "earliest"}});
  auto consumer = kafka::NewHandle(RD_KAFKA_CONSUMER, *conf);
  auto partitions = kafka::PartitionCount(consumer->get(), topic, 10000);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(*partitions);
  for (int32_t p = 0; p < *partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer->get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  int64_t seen = 0;
  auto start = Clock::now();
  while (seen < expected) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer->get(), 1000);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) ++seen;
    rd_kafka_message_destroy(message);
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_consumer_close(consumer->get());
  return seen / seconds;
}

}  // namespace kam::bench
