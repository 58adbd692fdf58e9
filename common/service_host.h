#pragma once

// Everything a kam service process needs around its logic: RocksDB, the outbox and its relay,
// Kafka topics, an optional input consumer, the gRPC server (callback API, health, reflection,
// message size limit), /metrics, and a graceful drain on SIGTERM/SIGINT. A service's main.cc
// parses its config, opens a host, builds its logic on host.store()/host.outbox(), registers its
// gRPC service, and calls Run().

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "absl/time/time.h"
#include "common/auth_file.h"
#include "common/batch_committer.h"
#include "common/config.h"
#include "common/kafka/changelog_restorer.h"
#include "common/kafka/consumer.h"
#include "common/kafka/group_directory.h"
#include "common/kafka/publisher.h"
#include "common/kafka/task_runner.h"
#include "common/kafka/transactional_committer.h"
#include "common/metrics.h"
#include "common/metrics_server.h"
#include "common/outbox.h"
#include "common/outbox_relay.h"
#include "common/record_applier.h"
#include "common/rpc_metrics.h"
#include "common/store.h"
#include "common/stream_task.h"
#include "common/task_ownership.h"
#include "common/task_router.h"

namespace kam {

struct HostSpec {
  std::vector<std::string> column_families;
  // Topics this service publishes to (created when missing, tails read by the relay).
  std::vector<std::string> output_topics;
  // Topics this service consumes (may be empty).
  std::vector<std::string> input_topics;
  // Groups of input topics that must have the same partition count (keyed alike, joined per
  // partition): the start is refused when they differ.
  std::vector<std::vector<std::string>> co_partitioned;
  // Tasks read their input up to the end before they run (and before health says SERVING): for
  // a service whose input is a replica of another service's table.
  bool restore_to_end = false;
  // State that moves with its partition: changelogged in Kafka transactions and restored before a
  // task runs (common/kafka/transactional_committer.h). Unset: state is local to the instance and
  // committed through the outbox.
  std::optional<kafka::ChangelogSpec> changelog;
  // Any instance answers any call: the host keeps a directory of which instance owns which task
  // (GroupDirectory over the group's description) and a TaskRouter that forwards calls there.
  bool routes_calls = false;
  // Partitions of input topics this service creates (0: --topic-partitions). kam-accounts' writer
  // topic has one: whoever holds it is the writer.
  int input_partitions = 0;
  // Tasks that do not run here are followed as STANDBYS: their changelog is restored into the
  // local store over and over (every `standby_every`), so taking a task over costs only the
  // records since the last pass, and the service can answer reads from it (kam-accounts).
  bool standby = false;
  absl::Duration standby_every = absl::Milliseconds(50);
  // Largest request a client may send.
  int max_receive_message_bytes = 4 << 20;
};

class ServiceHost {
 public:
  // Blocks SIGINT/SIGTERM in this and every later thread, so Run() can wait for them.
  ServiceHost(ServiceConfig config, HostSpec spec);
  ~ServiceHost();

  // Opens the store and outbox, waits for Kafka, creates missing topics, syncs the relay.
  absl::Status Open();

  Store* store() { return store_.get(); }
  Outbox* outbox() { return outbox_.get(); }
  MetricsRegistry* metrics() { return &metrics_; }
  // Requests by method and code, and their latency: every service's handlers record here, and so
  // does the host for requests that never reach a handler (bytes that do not parse).
  RpcMetrics* rpc_metrics() { return &rpc_metrics_; }
  const ServiceConfig& config() const { return config_; }
  // How this service reaches Kafka (after Open).
  const kafka::KafkaOptions& kafka_options() const { return kafka_options_; }
  // Health says SERVING only while `ready` holds too (besides every task running); call
  // ReadinessChanged() when its answer may have changed. Before Start().
  void AddReadiness(std::function<bool()> ready) { readiness_.push_back(std::move(ready)); }
  void ReadinessChanged() { UpdateHealth(); }

  void AddService(grpc::Service* service) { services_.push_back(service); }
  // Consumes spec.input_topics through `processor` (state + offsets in one batch).
  void SetProcessor(StreamProcessor* processor) { processor_ = processor; }
  const TaskTable& tasks() const { return tasks_; }
  // Which task an input key belongs to (Kafka's partitioner on the input topics) and whether it
  // runs here (after Open, for a service with input topics).
  const TaskOwnership* ownership() const { return ownership_.get(); }
  // Forwards calls to the owner of their task (after Open, with spec.routes_calls).
  TaskRouter* router() { return router_.get(); }
  // Told about every restore's writes to the store (after Open, before Start).
  void SetRestoreListener(kafka::ChangelogRestorer::OnRestored listener) {
    if (restorer_) restorer_->SetListener(std::move(listener));
  }
  // How consumed batches and the processor's own writes are made durable (after Open).
  BatchCommitter* committer() {
    return transactional_ ? static_cast<BatchCommitter*>(transactional_.get())
                          : outbox_committer_.get();
  }

  // Starts serving; returns when a signal arrives (or RequestStop()), after draining. Returns the
  // process exit code: 0, or kExitForRestart when the instance cannot go on in this process.
  int Run();
  // The consumer failed fatally (a static member fenced): the instance drains and exits with this
  // code (EX_TEMPFAIL) so that its supervisor starts it again on the same disk.
  static constexpr int kExitForRestart = 75;
  // Starts serving without waiting for a signal; for in-process tests. Returns the bound port.
  absl::StatusOr<int> Start();
  void RequestStop();
  void Shutdown();

 private:
  // Exposes the steps of every Kafka transaction as a histogram.
  void ObserveTransactionSteps();
  ServiceConfig config_;
  HostSpec spec_;
  kafka::KafkaOptions kafka_options_;
  std::vector<std::function<bool()>> readiness_;
  MetricsRegistry metrics_;
  RpcMetrics rpc_metrics_{&metrics_};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<kafka::KafkaPublisher> publisher_;
  std::unique_ptr<OutboxRelay> relay_;
  std::unique_ptr<kafka::KafkaConsumer> consumer_;
  std::unique_ptr<OutboxCommitter> outbox_committer_;
  std::unique_ptr<kafka::TransactionalCommitter> transactional_;
  std::unique_ptr<kafka::ChangelogRestorer> restorer_;
  std::unique_ptr<RecordApplier> applier_;
  std::unique_ptr<kafka::TaskRunner> task_runner_;
  std::unique_ptr<TableOwnership> ownership_;
  std::unique_ptr<kafka::GroupDirectory> directory_;
  std::unique_ptr<TaskRouter> router_;
  int32_t input_partitions_ = 0;
  // One restore at a time: the standby passes and a task's own restore share the restorer.
  Mutex restore_mutex_;
  std::thread standby_thread_;
  std::atomic<bool> standby_ready_{false};
  // Changelog records the last standby pass had to catch up on (how far behind it was).
  std::atomic<uint64_t> standby_behind_{0};
  // Follows the changelog of every task not running here until stop_.
  void RunStandby();
  StreamProcessor* processor_ = nullptr;
  TaskTable tasks_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<auth::AuthFile> auth_file_;  // --auth-file, watched for changes
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::string producer_;  // kam-producer header: service/instance
  std::atomic<bool> stop_{false};
  std::atomic<int> exit_code_{0};
  std::thread relay_thread_;
  std::thread consumer_thread_;
  bool shut_down_ = false;

  // Joins the consumer group, advertising `address` (Start, once the gRPC port is bound).
  absl::Status JoinGroup(const std::string& address);
  std::string GroupName() const;
  // group.instance.id: --instance-id, or one kept in the store.
  std::string InstanceId() const;
  // The changelog has a partition for every task.
  absl::Status CheckChangelogPartitions(const kafka::KafkaOptions& kafka_options);
  // SERVING only while every assigned task runs (a consuming service), else NOT_SERVING.
  void UpdateHealth();
  // Whether this service's outbox needs the relay (tail read at start, relay thread).
  bool RelaysOutbox() const;
  Mutex health_mutex_;
  bool health_open_ ABSL_GUARDED_BY(health_mutex_) = false;  // server_ started, not yet stopping
  std::optional<bool> health_reported_ ABSL_GUARDED_BY(health_mutex_);
};

}  // namespace kam
