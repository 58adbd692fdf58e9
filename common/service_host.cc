#include "common/service_host.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/cluster_binding.h"
#include "common/grpc_auth.h"
#include "common/grpc_tls.h"
#include "common/kafka/kafka_common.h"
#include "common/logging.h"
#include "common/time_util.h"
#include "common/topic_policy.h"
#include "common/unparseable_requests.h"
#include "grpc/health/v1/health.pb.h"

namespace kam {
namespace {

// SIGINT/SIGTERM are blocked until Run() waits for them; while starting up, a pending one means
// "stop" too.
bool StopPending() {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

// Runs `step` until it succeeds, fails for good, or `seconds` pass: a broker that just started
// or just created a topic answers "not leader" or "coordinator loading" for a moment.
absl::Status RetryWhileUnavailable(int seconds, const std::string& what,
                                   const std::function<absl::Status()>& step) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (true) {
    if (StopPending()) return absl::CancelledError("stopped while starting");
    absl::Status status = step();
    if (status.ok() || !absl::IsUnavailable(status) ||
        std::chrono::steady_clock::now() > deadline) {
      return status;
    }
    log::Info("kafka not ready; retrying", {{"step", what}, {"error", status.ToString()}});
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// The partition count of a topic this instance has just ensured. On a cluster of several
// brokers, the one a new handle asks first may not know a topic created a moment ago (metadata
// reaches every broker asynchronously): NOT_FOUND is retried for a few seconds.
absl::StatusOr<int32_t> PartitionCountOfEnsuredTopic(rd_kafka_t* handle, const std::string& topic) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (true) {
    absl::StatusOr<int32_t> count = kafka::PartitionCount(handle, topic, 10000);
    if (count.ok() || !absl::IsNotFound(count.status()) ||
        std::chrono::steady_clock::now() > deadline) {
      return count;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace

ServiceHost::ServiceHost(ServiceConfig config, HostSpec spec)
    : config_(std::move(config)), spec_(std::move(spec)) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  log::SetServiceName(config_.service_name);
  log::Level level = log::Level::kInfo;
  log::ParseLevel(config_.log_level, &level);
  log::SetLevel(level);
  RouteProtobufLogsToJson();
}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::ObserveTransactionSteps() {
  // From a few hundred microseconds (a broker round trip on a quiet host) to seconds (a broker
  // that stalls): where a write's or an alert's latency goes, step by step.
  const std::vector<double> bounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                      0.1,    0.25,  0.5,   1,     2.5,  5};
  std::array<Histogram*, 4> steps;
  const std::array<const char*, 4> names = {"produce", "flush", "offsets", "commit"};
  for (size_t i = 0; i < names.size(); ++i) {
    steps[i] = metrics_.AddHistogram(
        "kam_changelog_transaction_step_seconds",
        "Time of each step of a committed Kafka transaction: produce (records handed to "
        "librdkafka), flush (partitions registered, records acknowledged), offsets (input offsets "
        "sent), commit (EndTxn).",
        bounds, {{"step", names[i]}});
  }
  transactional_->SetStepObserver([steps](kafka::TransactionStep step, double seconds) {
    steps[static_cast<size_t>(step)]->Observe(seconds);
  });
}

absl::Status ServiceHost::Open() {
  StoreOptions store_options;
  store_options.path = config_.data_dir;
  store_options.sync_writes = config_.sync_writes;
  KAM_ASSIGN_OR_RETURN(store_, Store::Open(store_options, spec_.column_families));
  KAM_ASSIGN_OR_RETURN(outbox_, Outbox::Open(store_.get()));
  log::Info("store opened", {{"path", config_.data_dir},
                             {"outbox_sequence", std::to_string(outbox_->last_sequence())}});

  kafka::KafkaOptions& kafka_options = kafka_options_;
  kafka_options.brokers = config_.kafka_brokers;
  kafka_options.client_id = config_.service_name;
  KAM_ASSIGN_OR_RETURN(kafka_options.extra, LibrdkafkaSecurityProperties(config_.kafka_security));
  const std::string scram_note = ScramCompatibilityNote(config_.kafka_security, rd_kafka_version());
  if (!scram_note.empty()) log::Warn(scram_note, {{"flag", "--kafka-sasl-mechanism"}});
  if (absl::Status reached =
          RetryWhileUnavailable(config_.kafka_wait_seconds, "wait for broker",
                                [&] { return kafka::WaitForBroker(kafka_options, 2000); });
      !reached.ok()) {
    if (scram_note.empty()) return reached;
    return absl::Status(reached.code(), absl::StrCat(reached.message(), "; ", scram_note));
  }
  {
    // The store belongs to one cluster: refuse another rather than mix them.
    KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, kafka::NewConf(kafka_options, {}));
    KAM_ASSIGN_OR_RETURN(kafka::HandlePtr probe, kafka::NewHandle(RD_KAFKA_PRODUCER, conf));
    std::string cluster_id;
    KAM_RETURN_IF_ERROR(RetryWhileUnavailable(config_.kafka_wait_seconds, "cluster id", [&] {
      KAM_ASSIGN_OR_RETURN(cluster_id, kafka::ClusterId(probe.get(), 5000));
      return absl::OkStatus();
    }));
    KAM_RETURN_IF_ERROR(BindStoreToCluster(store_.get(), cluster_id, config_.kafka_brokers));
    KAM_RETURN_IF_ERROR(RetryWhileUnavailable(config_.kafka_wait_seconds, "check offsets", [&] {
      return CheckStoredOffsetsWithinTopics(
          *store_, [&](const std::string& topic, int32_t partition) {
            return kafka::EndOffset(probe.get(), topic, partition, 5000);
          });
    }));
    log::Info("store bound to kafka cluster", {{"cluster_id", cluster_id}});
  }
  // Replication and retention of the topics this service creates (common/topic_policy.h),
  // checked against the cluster -- only when there is a topic to create: a restart while a broker
  // is down (a rolling restart of Kafka) must not stop on the broker count.
  std::vector<std::string> all_topics = spec_.output_topics;
  all_topics.insert(all_topics.end(), spec_.input_topics.begin(), spec_.input_topics.end());
  if (spec_.changelog) all_topics.push_back(spec_.changelog->topic);
  if (spec_.routes_calls) all_topics.push_back(kafka::GroupDirectory::MembersTopic(GroupName()));
  std::vector<std::string> missing;
  KAM_RETURN_IF_ERROR(RetryWhileUnavailable(config_.kafka_wait_seconds, "list topics", [&] {
    KAM_ASSIGN_OR_RETURN(missing, kafka::MissingTopics(kafka_options, all_topics, 5000));
    return absl::OkStatus();
  }));
  TopicDurability durability;
  if (!missing.empty()) {
    KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, kafka::NewConf(kafka_options, {}));
    KAM_ASSIGN_OR_RETURN(kafka::HandlePtr probe, kafka::NewHandle(RD_KAFKA_PRODUCER, conf));
    int brokers = 0;
    KAM_RETURN_IF_ERROR(RetryWhileUnavailable(config_.kafka_wait_seconds, "broker count", [&] {
      KAM_ASSIGN_OR_RETURN(brokers, kafka::BrokerCount(probe.get(), 5000));
      return absl::OkStatus();
    }));
    KAM_ASSIGN_OR_RETURN(durability, ResolveDurability(config_.replication_factor,
                                                       config_.min_insync_replicas, brokers));
    log::Info("creating topics",
              {{"topics", absl::StrJoin(missing, ",")},
               {"brokers_up", std::to_string(brokers)},
               {"replication_factor", std::to_string(durability.replication_factor)},
               {"min_insync_replicas", std::to_string(durability.min_insync_replicas)}});
  }
  auto configs_for = [&](const std::vector<std::string>& names) {
    kafka::TopicConfigs configs;
    for (const auto& topic : names) {
      configs[topic] = TopicConfigFor(topic, durability, config_.alerts_retention_days);
    }
    return configs;
  };
  std::vector<std::string> topics = spec_.output_topics;
  if (spec_.input_partitions > 0) {
    KAM_RETURN_IF_ERROR(RetryWhileUnavailable(config_.kafka_wait_seconds, "create topics", [&] {
      return kafka::EnsureTopics(kafka_options, spec_.input_topics, spec_.input_partitions, 30000,
                                 configs_for(spec_.input_topics), durability.replication_factor);
    }));
  } else {
    topics.insert(topics.end(), spec_.input_topics.begin(), spec_.input_topics.end());
  }
  // Changelogs (a cache of the latest value per key) and the members directory (who is where)
  // are compacted.
  if (spec_.changelog) topics.push_back(spec_.changelog->topic);
  if (spec_.routes_calls) topics.push_back(kafka::GroupDirectory::MembersTopic(GroupName()));
  KAM_RETURN_IF_ERROR(RetryWhileUnavailable(config_.kafka_wait_seconds, "create topics", [&] {
    return kafka::EnsureTopics(kafka_options, topics, config_.topic_partitions, 30000,
                               configs_for(topics), durability.replication_factor);
  }));
  if (!spec_.co_partitioned.empty()) {
    KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, kafka::NewConf(kafka_options, {}));
    KAM_ASSIGN_OR_RETURN(kafka::HandlePtr probe, kafka::NewHandle(RD_KAFKA_PRODUCER, conf));
    for (const std::vector<std::string>& group : spec_.co_partitioned) {
      int32_t expected = -1;
      for (const auto& topic : group) {
        KAM_ASSIGN_OR_RETURN(int32_t count, PartitionCountOfEnsuredTopic(probe.get(), topic));
        if (expected >= 0 && count != expected) {
          return absl::FailedPreconditionError(
              absl::StrCat("topics ", absl::StrJoin(group, ", "),
                           " must have the same partition count (they are joined per partition); ",
                           topic, " has ", count, ", expected ", expected));
        }
        expected = count;
      }
    }
  }
  producer_ = absl::StrCat(config_.service_name, "/", store_->instance_id());
  KAM_ASSIGN_OR_RETURN(publisher_, kafka::KafkaPublisher::Create(kafka_options, producer_, &stop_));
  RelayOptions relay_options;
  relay_options.topics = spec_.output_topics;
  relay_ = std::make_unique<OutboxRelay>(outbox_.get(), publisher_.get(), relay_options);
  // Learn what Kafka already holds before accepting writes, so sequences never collide. A service
  // that commits in Kafka transactions never writes its outbox: the tail read (a scan of every
  // output partition for this producer's last record, seconds on a long topic) would find nothing.
  if (RelaysOutbox()) {
    KAM_RETURN_IF_ERROR(RetryWhileUnavailable(config_.kafka_wait_seconds, "read topic tails",
                                              [&] { return relay_->Sync(); }));
  }

  metrics_.AddCallbackGauge("kam_outbox_last_sequence", "Last sequence written to the outbox.",
                            [this] { return static_cast<double>(outbox_->last_sequence()); });
  metrics_.AddCallbackCounter("kam_outbox_published_total", "Outbox rows published to Kafka.",
                              [this] { return static_cast<double>(relay_->published_total()); });
  metrics_.AddCallbackCounter("kam_outbox_skipped_total",
                              "Outbox rows found already in Kafka at restart and not sent again.",
                              [this] { return static_cast<double>(relay_->skipped_total()); });
  metrics_.AddCallbackGauge(
      "kam_outbox_oldest_pending_age_seconds",
      "How long the oldest outbox row not yet acknowledged by Kafka has waited (0: none waits). "
      "Growing: the relay is stuck or Kafka refuses writes.",
      [this] {
        absl::StatusOr<std::optional<int64_t>> oldest = outbox_->OldestPendingCommitMillis();
        if (!oldest.ok() || !oldest->has_value()) return 0.0;
        return std::max(0.0, (absl::ToUnixMillis(absl::Now()) - **oldest) / 1000.0);
      });
  metrics_.AddCallbackCounter("kam_outbox_relay_errors_total", "Outbox relay errors.",
                              [this] { return static_cast<double>(relay_->errors_total()); });

  if (!spec_.input_topics.empty()) {
    // The group is joined in Start(), once the gRPC address other instances reach us at is known.
    if (spec_.changelog) {
      KAM_RETURN_IF_ERROR(CheckChangelogPartitions(kafka_options));
      const std::string transactional_id = absl::StrCat(GroupName(), "-", InstanceId());
      KAM_ASSIGN_OR_RETURN(transactional_,
                           kafka::TransactionalCommitter::Create(
                               kafka_options, transactional_id, producer_, store_.get(),
                               /*consumer=*/nullptr, *spec_.changelog));
      ObserveTransactionSteps();
      KAM_ASSIGN_OR_RETURN(restorer_, kafka::ChangelogRestorer::Create(kafka_options, store_.get(),
                                                                       *spec_.changelog));
    }
    KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, kafka::NewConf(kafka_options, {}));
    KAM_ASSIGN_OR_RETURN(kafka::HandlePtr probe, kafka::NewHandle(RD_KAFKA_PRODUCER, conf));
    KAM_ASSIGN_OR_RETURN(int32_t partitions,
                         PartitionCountOfEnsuredTopic(probe.get(), spec_.input_topics.front()));
    input_partitions_ = partitions;
    ownership_ = std::make_unique<TableOwnership>(&tasks_, [partitions](std::string_view key) {
      return kafka::PartitionOfKey(key, partitions);
    });
    if (spec_.routes_calls) {
      KAM_ASSIGN_OR_RETURN(directory_, kafka::GroupDirectory::Create(
                                           kafka_options, GroupName(), spec_.input_topics.front(),
                                           kafka::GroupDirectory::MembersTopic(GroupName())));
      router_ = std::make_unique<TaskRouter>(ownership_.get(), directory_.get(), &metrics_);
    }
  }
  outbox_committer_ = std::make_unique<OutboxCommitter>(store_.get(), outbox_.get());
  return absl::OkStatus();
}

std::string ServiceHost::GroupName() const {
  return config_.consumer_group.empty() ? config_.service_name : config_.consumer_group;
}

std::string ServiceHost::InstanceId() const {
  return config_.instance_id.empty()
             ? absl::StrCat(config_.service_name, "-", store_->instance_id())
             : config_.instance_id;
}

absl::Status ServiceHost::JoinGroup(const std::string& address) {
  kafka::MembershipOptions membership;
  membership.instance_id = InstanceId();
  membership.session_timeout_ms = config_.session_timeout_ms;
  membership.advertised_address = address;
  membership.service_name = config_.service_name;
  log::Info("joining consumer group",
            {{"group", GroupName()},
             {"instance_id", membership.instance_id},
             {"advertised_address", address},
             {"session_timeout_ms", std::to_string(membership.session_timeout_ms)}});
  if (router_) {
    // Where this instance is, before it owns anything anyone could look for.
    std::vector<bool> delivered;
    KAM_RETURN_IF_ERROR(
        publisher_->Publish({{.topic = kafka::GroupDirectory::MembersTopic(GroupName()),
                              .partition = 0,
                              .key = membership.instance_id,
                              .value = address,
                              .event_id = absl::StrCat(membership.instance_id, "@", address)}},
                            &delivered));
  }
  KAM_ASSIGN_OR_RETURN(consumer_,
                       kafka::KafkaConsumer::Create(kafka_options_, GroupName(), spec_.input_topics,
                                                    store_.get(), membership));
  if (transactional_) transactional_->AttachConsumer(consumer_.get());
  if (router_) {
    router_->SetSelfAddress(address);
    directory_->Start();
  }
  return absl::OkStatus();
}

absl::Status ServiceHost::CheckChangelogPartitions(const kafka::KafkaOptions& kafka_options) {
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, kafka::NewConf(kafka_options, {}));
  KAM_ASSIGN_OR_RETURN(kafka::HandlePtr probe, kafka::NewHandle(RD_KAFKA_PRODUCER, conf));
  KAM_ASSIGN_OR_RETURN(int32_t changelog,
                       PartitionCountOfEnsuredTopic(probe.get(), spec_.changelog->topic));
  for (const auto& topic : spec_.input_topics) {
    KAM_ASSIGN_OR_RETURN(int32_t count, PartitionCountOfEnsuredTopic(probe.get(), topic));
    if (count > changelog) {
      return absl::FailedPreconditionError(absl::StrCat(
          "changelog ", spec_.changelog->topic, " has ", changelog, " partitions but input ", topic,
          " has ", count, ": every task needs its changelog partition"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ServiceHost::Start() {
  // Referencing the descriptor links health.pb.cc, which registers it for reflection.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  const TlsFiles tls{config_.tls_cert, config_.tls_key, config_.tls_client_ca,
                     config_.tls_ca.empty() ? config_.tls_client_ca : config_.tls_ca};
  KAM_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                       ServerCredentialsFor(tls));
  if (router_) {
    // Calls forwarded to the other instances go over TLS when this one serves TLS, presenting
    // this instance's certificate (mutual TLS between instances).
    KAM_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> peers,
                         ChannelCredentialsFor(tls));
    router_->SetChannelCredentials(std::move(peers));
  }
  if (!config_.auth_file.empty()) {
    // gRPC aborts when a processor is set on plaintext credentials.
    if (!tls.enabled()) {
      return absl::FailedPreconditionError("--auth-file: needs --tls-cert and --tls-key");
    }
    KAM_ASSIGN_OR_RETURN(auth_file_, auth::AuthFile::Open(config_.auth_file, &metrics_));
    auth_file_->Watch(absl::Seconds(1));
    credentials->SetAuthMetadataProcessor(
        std::make_shared<auth::CallGuard>(auth_file_.get(), &metrics_, &rpc_metrics_));
  }
  builder.AddListeningPort(config_.listen, credentials, &port);
  builder.SetMaxReceiveMessageSize(spec_.max_receive_message_bytes);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      std::make_unique<UnparseableRequestInterceptorFactory>([this](const std::string& method) {
        rpc_metrics_.Count(method, absl::StatusCode::kInvalidArgument);
      }));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  for (grpc::Service* service : services_) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    return absl::UnavailableError(absl::StrCat("--listen: cannot bind ", config_.listen));
  }
  {
    MutexLock lock(&health_mutex_);
    health_open_ = true;
  }
  tasks_.SetListener([this] { UpdateHealth(); });
  UpdateHealth();

  if (!spec_.input_topics.empty()) {
    std::string address = config_.advertise_address;
    if (address.empty())
      address = absl::StrCat(config_.listen.substr(0, config_.listen.rfind(':')), ":", port);
    KAM_RETURN_IF_ERROR(JoinGroup(address));
  }
  if (!config_.metrics_listen.empty()) {
    metrics_server_ = config_.metrics_tls_cert.empty()
                          ? std::make_unique<MetricsServer>(&metrics_)
                          : std::make_unique<MetricsServer>(&metrics_, config_.metrics_tls_cert,
                                                            config_.metrics_tls_key);
    KAM_RETURN_IF_ERROR(metrics_server_->Start(config_.metrics_listen));
  }
  if (RelaysOutbox()) relay_thread_ = std::thread([this] { relay_->Run(stop_); });
  if (consumer_ && processor_ != nullptr) {
    applier_ = std::make_unique<RecordApplier>(store_.get(), committer(), processor_,
                                               config_.service_name);
    kafka::TaskRunnerOptions runner_options;
    runner_options.input_topics = spec_.input_topics;
    runner_options.restore_to_end = spec_.restore_to_end;
    runner_options.on_consumer_failed = [this](const std::string& reason) {
      log::Error(
          "consumer failed for good; draining and exiting so that a supervisor restarts this "
          "instance on its disk",
          {{"reason", reason}, {"exit_code", std::to_string(kExitForRestart)}});
      exit_code_.store(kExitForRestart);
      RequestStop();
    };
    if (restorer_) {
      runner_options.restore = [this](int32_t task, std::atomic<uint64_t>* remaining) {
        MutexLock lock(&restore_mutex_);
        return restorer_->Restore(task, remaining);
      };
      metrics_.AddCallbackCounter(
          "kam_changelog_transactions_total",
          "Kafka transactions committed (outputs, changelog and input offsets together).",
          [this] { return static_cast<double>(transactional_->transactions_total()); });
      metrics_.AddCallbackCounter(
          "kam_changelog_transactions_aborted_total",
          "Kafka transactions aborted (nothing of them visible; the batch is retried).",
          [this] { return static_cast<double>(transactional_->aborted_total()); });
      metrics_.AddCallbackCounter(
          "kam_changelog_restored_records_total", "Changelog records restored into the store.",
          [this] { return static_cast<double>(restorer_->restored_records_total()); });
    }
    task_runner_ =
        std::make_unique<kafka::TaskRunner>(consumer_.get(), store_.get(), applier_.get(),
                                            processor_, &tasks_, std::move(runner_options));
    metrics_.AddCallbackCounter("kam_consumer_applied_total", "Input records applied.",
                                [this] { return static_cast<double>(applier_->applied_total()); });
    metrics_.AddCallbackCounter("kam_consumer_commits_total",
                                "Commits of applied records (one per batch of records).",
                                [this] { return static_cast<double>(applier_->batches_total()); });
    metrics_.AddCallbackCounter(
        "kam_consumer_dead_lettered_total", "Input records sent to the dead-letter topic.",
        [this] { return static_cast<double>(applier_->dead_lettered_total()); });
    metrics_.AddCallbackCounter(
        "kam_consumer_aborted_batches_total",
        "Batches aborted by a storage or broker error and retried from the stored offsets.",
        [this] { return static_cast<double>(applier_->aborted_total()); });
    for (TaskState state : {TaskState::kAssigned, TaskState::kRestoring, TaskState::kRunning}) {
      metrics_.AddCallbackGauge(
          "kam_tasks", "Stream tasks (one per input partition number) of this instance, by state.",
          [this, state] { return static_cast<double>(tasks_.Count(state)); },
          {{"state", TaskStateName(state)}});
    }
    metrics_.AddCallbackGauge(
        "kam_task_restore_remaining_records",
        "Input records restoring tasks still have to read before they run.",
        [this] { return static_cast<double>(task_runner_->restore_remaining()); });
    metrics_.AddCallbackFamily(
        "kam_consumer_lag_records",
        "Records on each assigned input partition this instance's state does not reflect yet: "
        "the end the last fetch reported minus the offset stored with the state.",
        MetricKind::kGauge, [this] {
          std::vector<MetricSample> samples;
          for (const auto& lag : consumer_->Lag()) {
            samples.push_back({{{"topic", lag.topic}, {"partition", std::to_string(lag.partition)}},
                               static_cast<double>(lag.records)});
          }
          return samples;
        });
    consumer_thread_ = std::thread([this] { task_runner_->Run(stop_); });
    if (spec_.standby && restorer_) {
      metrics_.AddCallbackGauge(
          "kam_standby_behind_records",
          "Changelog records the last standby pass caught up on: how far this standby trailed "
          "the tasks' owners (0 on the owner itself).",
          [this] { return static_cast<double>(standby_behind_.load()); });
      standby_thread_ = std::thread([this] { RunStandby(); });
    }
  }
  log::Info("serving",
            {{"grpc", absl::StrCat(config_.listen.substr(0, config_.listen.rfind(':')), ":", port)},
             {"metrics", metrics_server_ ? std::to_string(metrics_server_->port()) : "off"},
             {"kafka", config_.kafka_brokers},
             {"producer", producer_}});
  return port;
}

bool ServiceHost::RelaysOutbox() const {
  // A service that commits in Kafka transactions never writes its outbox (a store from before
  // it did may still hold rows: those are relayed).
  return !spec_.changelog || outbox_->last_sequence() > 0;
}

void ServiceHost::UpdateHealth() {
  MutexLock lock(&health_mutex_);
  if (!health_open_ || !server_) return;
  // A consuming service serves once it joined its group and every assigned task runs.
  bool serving = spec_.input_topics.empty() || tasks_.AllRunning();
  // A standby answers reads once it followed every other task's changelog to its end once.
  if (spec_.standby) serving = serving && standby_ready_.load();
  for (const auto& ready : readiness_) serving = serving && ready();
  if (health_reported_ && *health_reported_ == serving) return;
  health_reported_ = serving;
  server_->GetHealthCheckService()->SetServingStatus(serving);
  // "liveness" answers SERVING while the process serves at all, ready or not (a rebalance or a
  // restore is no reason to restart it): Kubernetes' liveness probe asks for it by name.
  server_->GetHealthCheckService()->SetServingStatus("liveness", true);
  // Operators and tests wait for this line: from here on the instance processes its partitions.
  log::Info("health", {{"status", serving ? "SERVING" : "NOT_SERVING"}});
}

void ServiceHost::RunStandby() {
  while (!stop_.load()) {
    const std::map<int32_t, TaskState> here = tasks_.Snapshot();
    bool all_followed = true;
    const uint64_t restored_before = restorer_->restored_records_total();
    for (int32_t task = 0; task < input_partitions_ && !stop_.load(); ++task) {
      if (here.count(task)) continue;  // runs here (or is about to): its own restore follows
      MutexLock lock(&restore_mutex_);
      absl::Status followed = restorer_->Restore(task, nullptr);
      if (!followed.ok()) {
        all_followed = false;
        log::Warn("standby: following a task's changelog failed; trying again",
                  {{"task", std::to_string(task)}, {"error", followed.ToString()}});
      }
    }
    standby_behind_ = restorer_->restored_records_total() - restored_before;
    if (all_followed && !standby_ready_.exchange(true)) UpdateHealth();
    const auto next =
        std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(spec_.standby_every);
    while (!stop_.load() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

void ServiceHost::RequestStop() { kill(getpid(), SIGTERM); }

void ServiceHost::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  {
    MutexLock lock(&health_mutex_);
    health_open_ = false;
  }
  if (server_) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    // Let in-flight calls finish, then cancel what is left.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  // Scrapes read the consumer, the committer and the restorer: none after this.
  if (metrics_server_) metrics_server_->Stop();
  stop_.store(true);
  if (consumer_thread_.joinable()) consumer_thread_.join();
  if (standby_thread_.joinable()) standby_thread_.join();
  if (relay_thread_.joinable()) relay_thread_.join();
  restorer_.reset();
  directory_.reset();
  transactional_.reset();  // before the consumer whose group it fences with
  consumer_.reset();
  if (server_) server_->Wait();
  relay_.reset();
  publisher_.reset();
  log::Info("stopped");
}

int ServiceHost::Run() {
  absl::StatusOr<int> port = Start();
  if (!port.ok()) {
    log::Error("start failed", {{"error", port.status().ToString()}});
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log::Info("draining", {{"signal", strsignal(signal_number)}});
  Shutdown();
  return exit_code_.load();
}

}  // namespace kam
