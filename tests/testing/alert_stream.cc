#include "tests/testing/alert_stream.h"

#include <librdkafka/rdkafka.h>

#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "kam/v1/events.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/topic_reader.h"

namespace kam::testing {

std::string AccountCreatedEvent(const std::string& id, const std::string& manager) {
  kam::v1::EventEnvelope envelope;
  *envelope.mutable_time() = NowTimestamp();
  auto* account = envelope.mutable_account_created()->mutable_account();
  account->set_id(id);
  account->set_name(id);
  account->set_owner_manager_id(manager);
  return envelope.SerializeAsString();
}

std::string ManagerLoadEvent(const std::string& manager, double load, double capacity,
                             int accounts) {
  kam::v1::EventEnvelope envelope;
  *envelope.mutable_time() = NowTimestamp();
  auto* snapshot = envelope.mutable_manager_load_changed()->mutable_load();
  snapshot->set_manager_id(manager);
  snapshot->set_manager_name(manager);
  snapshot->set_load(load);
  snapshot->set_capacity(capacity);
  snapshot->set_account_count(accounts);
  return envelope.SerializeAsString();
}

std::string SurveyEvent(const std::string& account, const std::string& id, int64_t at_millis,
                        int nps) {
  kam::v1::EventEnvelope envelope;
  *envelope.mutable_time() = TimestampFromMillis(at_millis);
  auto* interaction = envelope.mutable_interaction_recorded()->mutable_interaction();
  interaction->set_id(id);
  interaction->set_account_id(account);
  interaction->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
  *interaction->mutable_occur_time() = TimestampFromMillis(at_millis);
  interaction->mutable_survey()->set_nps(nps);
  return envelope.SerializeAsString();
}

std::map<std::string, int64_t> CommittedOffsets(const std::string& brokers,
                                                const std::string& group,
                                                const std::vector<std::string>& topics) {
  std::map<std::string, int64_t> committed;
  kafka::KafkaOptions options;
  options.brokers = brokers;
  auto conf = kafka::NewConf(options, {{"group.id", group}, {"enable.auto.commit", "false"}});
  if (!conf.ok()) return committed;
  auto consumer = kafka::NewHandle(RD_KAFKA_CONSUMER, *conf);
  if (!consumer.ok()) return committed;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(12);
  for (const auto& topic : topics) {
    for (int32_t p = 0; p < 3; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  }
  if (rd_kafka_committed(consumer->get(), list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset >= 0) {
        committed[std::string(list->elems[i].topic) + "/" +
                  std::to_string(list->elems[i].partition)] = list->elems[i].offset;
      }
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(consumer->get());
  return committed;
}

bool CaughtUp(const std::string& brokers, const std::string& group,
              const std::vector<std::string>& topics) {
  auto committed = CommittedOffsets(brokers, group, topics);
  for (const auto& topic : topics) {
    auto ends = EndOffsets(brokers, topic);
    if (ends.empty()) return false;
    for (const auto& [partition, end] : ends) {
      auto it = committed.find(topic + "/" + std::to_string(partition));
      if (end > 0 && (it == committed.end() || it->second < end)) return false;
    }
  }
  return true;
}

AlertOutcome ReadAlertOutcome(const std::string& brokers, const std::string& tag,
                              const std::set<std::string>& producers) {
  AlertOutcome outcome;
  std::set<std::string> ids;
  for (const auto& record : ReadTopic(brokers, "kam.alerts.v1")) {
    auto producer = record.headers.find("kam-producer");
    if (producer == record.headers.end() || !producers.count(producer->second)) continue;
    auto event = nlohmann::json::parse(record.value, nullptr, false);
    if (event.is_discarded()) continue;
    const auto& data = event["data"];
    if (data.value("account_id", "").rfind(tag, 0) != 0) continue;
    if (!ids.insert(event["id"].get<std::string>()).second) ++outcome.duplicates;
    if (data.value("rule", "") == "ALERT_RULE_PORTFOLIO_STRAIN") continue;
    const std::string id = data["id"].get<std::string>();
    outcome.changes[id].push_back(event["type"]);
    if (data.value("state", "") == "ALERT_STATE_RESOLVED") {
      outcome.open.erase(id);
    } else {
      outcome.open[id] = data.value("severity", "");
    }
  }
  return outcome;
}

}  // namespace kam::testing
