#include "common/kafka/group_directory.h"

#include <chrono>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam::kafka {
namespace {

constexpr int kDescribeTimeoutMs = 5000;

struct GroupListDeleter {
  void operator()(const rd_kafka_group_list* list) const { rd_kafka_group_list_destroy(list); }
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
            MutexLock lock(&self->mutex_);
            if (value && !value->empty()) {
              self->addresses_[std::string(key)] = std::string(*value);
            } else {
              self->addresses_.erase(std::string(key));
            }
          }));
  return directory;
}

std::string GroupDirectory::AddressOfMember(std::string_view member_id,
                                            std::string_view client_id) const {
  // The coordinator names a static member `<group.instance.id>-<UUID>` (36 characters).
  constexpr size_t kSuffix = 1 + 36;
  if (member_id.size() > kSuffix && member_id[member_id.size() - kSuffix] == '-') {
    const std::string instance(member_id.substr(0, member_id.size() - kSuffix));
    MutexLock lock(&mutex_);
    auto it = addresses_.find(instance);
    if (it != addresses_.end()) return it->second;
  }
  return AdvertisedAddressOf(client_id);
}

std::optional<ConsumerAssignment> DecodeConsumerAssignment(std::string_view bytes) {
  ConsumerAssignment assignment;
  if (bytes.empty()) return assignment;  // a member without an assignment yet
  size_t at = 0;
  auto read = [&](size_t width, int64_t* value) {
    if (bytes.size() - at < width) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
    at += width;
    // Big-endian two's complement of `width` bytes.
    *value = width == 2 ? static_cast<int16_t>(v) : static_cast<int32_t>(v);
    return true;
  };
  int64_t version = 0;
  int64_t topics = 0;
  if (!read(2, &version) || version < 0 || !read(4, &topics) || topics < 0) return std::nullopt;
  for (int64_t t = 0; t < topics; ++t) {
    int64_t length = 0;
    if (!read(2, &length) || length < 0 || bytes.size() - at < static_cast<size_t>(length)) {
      return std::nullopt;
    }
    std::vector<int32_t>& partitions = assignment[std::string(bytes.substr(at, length))];
    at += length;
    int64_t count = 0;
    if (!read(4, &count) || count < 0 || static_cast<size_t>(count) > (bytes.size() - at) / 4) {
      return std::nullopt;
    }
    for (int64_t i = 0; i < count; ++i) {
      int64_t partition = 0;
      read(4, &partition);
      partitions.push_back(static_cast<int32_t>(partition));
    }
  }
  // User data follows (unused here).
  return assignment;
}

GroupDirectory::~GroupDirectory() {
  members_follower_.reset();  // its thread writes our map
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
  }
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
  MutexLock lock(&mutex_);
  auto it = owners_.find(partition);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> GroupDirectory::Members() const {
  MutexLock lock(&mutex_);
  return members_;
}

void GroupDirectory::RequestRefresh() {
  {
    MutexLock lock(&mutex_);
    refresh_requested_ = true;
  }
}

void GroupDirectory::Loop() {
  while (true) {
    {
      MutexLock lock(&mutex_);
      auto woken = [this] {
        mutex_.AssertHeld();
        return stopping_ || refresh_requested_;
      };
      mutex_.AwaitWithTimeout(woken, refresh_every_);
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
  // The classic ListGroups + DescribeGroups path, not the Admin API's DescribeConsumerGroups:
  // librdkafka 2.0.2 aborts the process (rd_kafka_enq_once_del_source_return: assertion
  // `eonce->refcnt > 0`, librdkafka PR #5397) when an admin request's connection to the group
  // coordinator drops, which a broker failure does. tests/e2e/broker_failure_test.cc found it.
  const rd_kafka_group_list* list = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_list_groups(admin_.get(), group_.c_str(), &list, kDescribeTimeoutMs);
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) return Unsupported();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) unanswered_ = true;  // a broker's answer may be pending
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__PARTIAL) {
    return FromKafka(err, "describe consumer group");
  }
  std::unique_ptr<const rd_kafka_group_list, GroupListDeleter> owned(list);
  const rd_kafka_group_info* info = nullptr;
  // Any broker that ever hosted the group may list it; the coordinator's answer has no error.
  for (int i = 0; i < list->group_cnt; ++i) {
    if (group_ != list->groups[i].group) continue;
    if (info == nullptr || info->err != RD_KAFKA_RESP_ERR_NO_ERROR) info = &list->groups[i];
  }
  if (info == nullptr) {
    // Every broker answered and none knows the group: it has no member yet (or the broker cannot
    // list groups: librdkafka's mock cluster). Nothing to learn; keep the last map.
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    return absl::UnavailableError("describe consumer group: its coordinator did not answer");
  }
  if (info->err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) return Unsupported();
  if (info->err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return FromKafka(info->err, "describe consumer group");
  ++refreshes_total_;
  // Mid-rebalance the assignments are in flux: keep the last stable map.
  if (info->state == nullptr || std::string_view(info->state) != "Stable") return absl::OkStatus();
  std::map<int32_t, std::string> owners;
  std::vector<std::string> members;
  for (int i = 0; i < info->member_cnt; ++i) {
    const rd_kafka_group_member_info& member = info->members[i];
    std::string address = AddressOfMember(member.member_id ? member.member_id : "",
                                          member.client_id ? member.client_id : "");
    if (address.empty()) continue;  // not a kam instance that serves calls
    members.push_back(address);
    std::optional<ConsumerAssignment> assignment = DecodeConsumerAssignment(std::string_view(
        static_cast<const char*>(member.member_assignment),
        member.member_assignment ? static_cast<size_t>(member.member_assignment_size) : 0));
    if (!assignment) {
      return absl::DataLossError(absl::StrCat("describe consumer group: member ", member.member_id,
                                              "'s assignment does not decode"));
    }
    auto partitions = assignment->find(topic_);
    if (partitions == assignment->end()) continue;
    for (int32_t partition : partitions->second) owners[partition] = address;
  }
  MutexLock lock(&mutex_);
  owners_ = std::move(owners);
  members_ = std::move(members);
  return absl::OkStatus();
}

}  // namespace kam::kafka
