#include "common/kafka/group_directory.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam::kafka {
namespace {

constexpr int kDescribeTimeoutMs = 5000;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};

}  // namespace

std::string AdvertisedAddressOf(std::string_view client_id) {
  const size_t at = client_id.rfind('@');
  if (at == std::string_view::npos || at + 1 == client_id.size()) return "";
  return std::string(client_id.substr(at + 1));
}

absl::StatusOr<std::unique_ptr<GroupDirectory>> GroupDirectory::Create(
    const KafkaOptions& options, std::string group, std::string topic, std::string members_topic,
    absl::Duration refresh_every) {
  std::unique_ptr<GroupDirectory> directory(
      new GroupDirectory(std::move(group), std::move(topic), refresh_every));
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewConf(options, {}));
  KAM_ASSIGN_OR_RETURN(directory->admin_, NewHandle(RD_KAFKA_PRODUCER, conf));
  GroupDirectory* self = directory.get();
  KAM_ASSIGN_OR_RETURN(
      directory->members_follower_,
      ChangelogFollower::Create(
          options, std::move(members_topic),
          [self](int32_t, std::string_view key, std::optional<std::string_view> value) {
            std::lock_guard<std::mutex> lock(self->mutex_);
            if (value && !value->empty()) {
              self->addresses_[std::string(key)] = std::string(*value);
            } else {
              self->addresses_.erase(std::string(key));
            }
          }));
  return directory;
}

std::string GroupDirectory::AddressOf(const char* instance_id, const char* client_id) const {
  if (instance_id != nullptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = addresses_.find(instance_id);
    if (it != addresses_.end()) return it->second;
  }
  return AdvertisedAddressOf(client_id ? client_id : "");
}

GroupDirectory::~GroupDirectory() {
  members_follower_.reset();  // its thread writes our map
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // librdkafka 2.0.2 never finishes destroying a handle whose request named an API the broker
  // lacks (the mock cluster behind kam-broker has no DescribeGroups): leave it to the exit.
  // The same when a request never got its answer (the broker was down, or is the mock cluster).
  if (unsupported_.load() || unanswered_.load()) (void)admin_.release();
}

void GroupDirectory::Start() {
  absl::Status following = members_follower_->Start([this] { RequestRefresh(); });
  if (!following.ok()) {
    log::Warn("group directory: members topic not followed", {{"error", following.ToString()}});
  }
  absl::Status first = Refresh();
  if (!first.ok())
    log::Warn("group directory: first description failed", {{"error", first.ToString()}});
  thread_ = std::thread([this] { Loop(); });
}

std::optional<std::string> GroupDirectory::OwnerOf(int32_t partition) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owners_.find(partition);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> GroupDirectory::Members() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return members_;
}

void GroupDirectory::RequestRefresh() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    refresh_requested_ = true;
  }
  wake_.notify_all();
}

void GroupDirectory::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, absl::ToChronoMilliseconds(refresh_every_),
                     [this] { return stopping_ || refresh_requested_; });
      if (stopping_) return;
      refresh_requested_ = false;
    }
    absl::Status refreshed = Refresh();
    if (!refreshed.ok()) {
      log::Warn("group directory: description failed; keeping the last one",
                {{"group", group_}, {"error", refreshed.ToString()}});
    }
  }
}

absl::Status GroupDirectory::Unsupported() {
  unsupported_ = true;
  log::Warn(
      "group directory: the broker cannot describe consumer groups (kam-broker, librdkafka's "
      "mock cluster); calls are not forwarded: run one instance per service on it",
      {{"group", group_}});
  return absl::OkStatus();
}

absl::Status GroupDirectory::Refresh() {
  if (unsupported_.load()) return absl::OkStatus();
  char errstr[256];
  rd_kafka_AdminOptions_t* admin_options =
      rd_kafka_AdminOptions_new(admin_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
  if (rd_kafka_AdminOptions_set_request_timeout(admin_options, kDescribeTimeoutMs, errstr,
                                                sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_AdminOptions_destroy(admin_options);
    return absl::InternalError(absl::StrCat("describe group options: ", errstr));
  }
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(admin_.get()));
  const char* groups[] = {group_.c_str()};
  rd_kafka_DescribeConsumerGroups(admin_.get(), groups, 1, admin_options, queue.get());
  rd_kafka_AdminOptions_destroy(admin_options);
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), kDescribeTimeoutMs + 2000));
  if (!event) {
    unanswered_ = true;
    return absl::UnavailableError("describe consumer group: no answer in time");
  }
  if (rd_kafka_event_error(event.get()) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
    return Unsupported();
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return FromKafka(rd_kafka_event_error(event.get()), "describe consumer group");
  }
  const rd_kafka_DescribeConsumerGroups_result_t* result =
      rd_kafka_event_DescribeConsumerGroups_result(event.get());
  if (result == nullptr) return absl::InternalError("describe consumer group: unexpected event");
  size_t count = 0;
  const rd_kafka_ConsumerGroupDescription_t** descriptions =
      rd_kafka_DescribeConsumerGroups_result_groups(result, &count);
  if (count != 1) return absl::InternalError("describe consumer group: not one group described");
  const rd_kafka_ConsumerGroupDescription_t* description = descriptions[0];
  if (const rd_kafka_error_t* error = rd_kafka_ConsumerGroupDescription_error(description)) {
    if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) return Unsupported();
    return absl::UnavailableError(
        absl::StrCat("describe consumer group: ", rd_kafka_error_string(error)));
  }
  ++refreshes_total_;
  // Mid-rebalance the assignments are in flux: keep the last stable map.
  if (rd_kafka_ConsumerGroupDescription_state(description) !=
      RD_KAFKA_CONSUMER_GROUP_STATE_STABLE) {
    return absl::OkStatus();
  }
  std::map<int32_t, std::string> owners;
  std::vector<std::string> members;
  const size_t member_count = rd_kafka_ConsumerGroupDescription_member_count(description);
  for (size_t i = 0; i < member_count; ++i) {
    const rd_kafka_MemberDescription_t* member =
        rd_kafka_ConsumerGroupDescription_member(description, i);
    std::string address = AddressOf(rd_kafka_MemberDescription_group_instance_id(member),
                                    rd_kafka_MemberDescription_client_id(member));
    if (address.empty()) continue;  // not a kam instance that serves calls
    members.push_back(address);
    const rd_kafka_MemberAssignment_t* assignment = rd_kafka_MemberDescription_assignment(member);
    const rd_kafka_topic_partition_list_t* partitions =
        assignment ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
    for (int p = 0; partitions && p < partitions->cnt; ++p) {
      if (topic_ == partitions->elems[p].topic) owners[partitions->elems[p].partition] = address;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  owners_ = std::move(owners);
  members_ = std::move(members);
  return absl::OkStatus();
}

}  // namespace kam::kafka
