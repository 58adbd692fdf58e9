#include "common/kafka/kafka_common.h"

#include <chrono>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam::kafka {

bool IsRetryable(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

absl::Status FromKafka(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  std::string message =
      absl::StrCat(std::string(what), ": ", rd_kafka_err2name(err), ": ", rd_kafka_err2str(err));
  if (IsRetryable(err)) return absl::UnavailableError(message);
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || err == RD_KAFKA_RESP_ERR__INVALID_ARG) {
    return absl::InvalidArgumentError(message);
  }
  return absl::InternalError(message);
}

namespace {

// librdkafka's own log lines join the service's JSON log instead of raw "%3|..." lines.
void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  log::Level ours = level <= 3   ? log::Level::kError
                    : level <= 5 ? log::Level::kWarn
                                 : log::Level::kDebug;
  if (!log::Enabled(ours)) return;
  log::Write(
      ours, "librdkafka",
      {{"client", rk ? rd_kafka_name(rk) : ""}, {"facility", facility}, {"detail", message}});
}

}  // namespace

absl::StatusOr<rd_kafka_conf_t*> NewConf(
    const KafkaOptions& options,
    const std::vector<std::pair<std::string, std::string>>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  auto set = [&](const std::string& name, const std::string& value) -> absl::Status {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka config ", name, "=",
                       // Secrets (sasl.password, ssl.key.password) never reach a log.
                       absl::StrContains(name, "password") ? "(secret)" : value, ": ", errstr));
    }
    return absl::OkStatus();
  };
  rd_kafka_conf_set_log_cb(conf, OnLog);
  std::vector<std::pair<std::string, std::string>> all = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      // Loopback brokers are reached by name in metadata; keep logs quiet unless asked.
      {"log_level", "4"},
      // A metadata request must never create a topic with the broker's defaults (1 partition, 1
      // replica, delete retention even for a changelog): kam creates its topics itself
      // (common/topic_policy.h). librdkafka lets producers ask for it unless told not to.
      {"allow.auto.create.topics", "false"},
  };
  all.insert(all.end(), properties.begin(), properties.end());
  all.insert(all.end(), options.extra.begin(), options.extra.end());
  for (const auto& [name, value] : all) {
    absl::Status status = set(name, value);
    if (!status.ok()) {
      rd_kafka_conf_destroy(conf);
      return status;
    }
  }
  return conf;
}

absl::StatusOr<HandlePtr> NewHandle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", errstr));
  }
  return HandlePtr(rk);
}

absl::StatusOr<HandlePtr> NewChangelogReader(const KafkaOptions& options,
                                             const std::string& group_id, int fetch_wait_ms) {
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                       NewConf(options, {{"group.id", group_id},
                                         {"enable.auto.commit", "false"},
                                         {"enable.auto.offset.store", "false"},
                                         {"enable.partition.eof", "true"},
                                         {"isolation.level", "read_committed"},
                                         {"fetch.wait.max.ms", std::to_string(fetch_wait_ms)},
                                         {"auto.offset.reset", "earliest"}}));
  return NewHandle(RD_KAFKA_CONSUMER, conf);
}

absl::StatusOr<std::string> ClusterId(rd_kafka_t* rk, int timeout_ms) {
  char* id = rd_kafka_clusterid(rk, timeout_ms);
  if (id == nullptr) return absl::UnavailableError("Kafka did not report its cluster id in time");
  std::string result(id);
  rd_kafka_mem_free(rk, id);
  return result;
}

absl::StatusOr<int64_t> EndOffset(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                                  int timeout_ms) {
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    return absl::NotFoundError(absl::StrCat(topic, "/", partition, ": no such partition"));
  }
  KAM_RETURN_IF_ERROR(FromKafka(err, "query watermark offsets"));
  return high;
}

absl::StatusOr<int32_t> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rkt == nullptr) return FromKafka(rd_kafka_last_error(), "topic handle");
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &metadata, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(err, absl::StrCat("metadata ", topic));
  absl::StatusOr<int32_t> result = absl::NotFoundError(absl::StrCat("topic ", topic, " not found"));
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) {
      result = t.partition_cnt;
    } else if (t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
               t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = FromKafka(t.err, absl::StrCat("metadata ", topic));
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return result;
}

absl::Status WaitForBroker(const KafkaOptions& options, int timeout_ms) {
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewConf(options, {}));
  KAM_ASSIGN_OR_RETURN(HandlePtr rk, NewHandle(RD_KAFKA_PRODUCER, conf));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  while (std::chrono::steady_clock::now() < deadline) {
    const rd_kafka_metadata_t* metadata = nullptr;
    err = rd_kafka_metadata(rk.get(), 0, nullptr, &metadata, 1000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(metadata);
      return absl::OkStatus();
    }
  }
  return FromKafka(err, absl::StrCat("broker ", options.brokers, " did not answer"));
}

absl::StatusOr<std::vector<std::string>> MissingTopics(const KafkaOptions& options,
                                                       const std::vector<std::string>& topics,
                                                       int timeout_ms) {
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewConf(options, {}));
  KAM_ASSIGN_OR_RETURN(HandlePtr rk, NewHandle(RD_KAFKA_PRODUCER, conf));
  std::vector<std::string> missing;
  // A topic may be named twice (a service that reads what it writes); Kafka refuses a request
  // that names a topic twice (INVALID_REQUEST).
  std::set<std::string> asked;
  for (const auto& topic : topics) {
    if (!asked.insert(topic).second) continue;
    absl::StatusOr<int32_t> count = PartitionCount(rk.get(), topic, timeout_ms);
    if (count.ok()) continue;
    if (!absl::IsNotFound(count.status())) return count.status();
    missing.push_back(topic);
  }
  return missing;
}

absl::StatusOr<int> BrokerCount(rd_kafka_t* rk, int timeout_ms) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, nullptr, &metadata, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(err, "cluster metadata");
  const int brokers = metadata->broker_cnt;
  rd_kafka_metadata_destroy(metadata);
  return brokers;
}

absl::Status EnsureTopics(const KafkaOptions& options, const std::vector<std::string>& topics,
                          int partitions, int timeout_ms, const TopicConfigs& configs,
                          int replication_factor) {
  KAM_ASSIGN_OR_RETURN(std::vector<std::string> missing,
                       MissingTopics(options, topics, timeout_ms));
  if (missing.empty()) return absl::OkStatus();
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewConf(options, {}));
  KAM_ASSIGN_OR_RETURN(HandlePtr rk, NewHandle(RD_KAFKA_PRODUCER, conf));

  std::vector<rd_kafka_NewTopic_t*> new_topics;
  char errstr[512];
  for (const auto& topic : missing) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor,
                                                    errstr, sizeof(errstr));
    if (nt == nullptr) {
      for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
      return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": ", errstr));
    }
    new_topics.push_back(nt);
    auto config = configs.find(topic);
    if (config == configs.end()) continue;
    for (const auto& [name, value] : config->second) {
      rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(nt, name.c_str(), value.c_str());
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
        return FromKafka(err, absl::StrCat("topic ", topic, " config ", name));
      }
    }
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_AdminOptions_t* admin =
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(admin, timeout_ms, errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk.get(), new_topics.data(), new_topics.size(), admin, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout_ms + 2000);
  absl::Status status = absl::OkStatus();
  if (event == nullptr) {
    status = absl::UnavailableError("create topics: no answer from the broker");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = FromKafka(rd_kafka_event_error(event), "create topics");
  } else {
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count && status.ok(); ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        log::Info("topic ready", {{"topic", rd_kafka_topic_result_name(results[i])}});
        continue;
      }
      status =
          FromKafka(err, absl::StrCat("create topic ", rd_kafka_topic_result_name(results[i])));
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_queue_destroy(queue);
  for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
  if (!status.ok()) return status;

  // Creation is asynchronous on the broker; wait until metadata shows every topic.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (const auto& topic : missing) {
    while (true) {
      absl::StatusOr<int32_t> count = PartitionCount(rk.get(), topic, 1000);
      if (count.ok()) break;
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::UnavailableError(absl::StrCat("topic ", topic, " not visible after create"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return absl::OkStatus();
}

int32_t PartitionOfKey(std::string_view key, int32_t partitions) {
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr,
                                          nullptr);
}

}  // namespace kam::kafka
