#include "tools/broker/mock_broker.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/logging.h"

namespace kam {
namespace {

int ConnectTo(const std::string& address) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(address, "broker", &host, &port).ok()) return -1;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(result);
  return fd;
}

// Copies bytes both ways until either side closes or the broker stops.
void Pump(int client, int upstream, const std::atomic<bool>* stop) {
  char buffer[64 * 1024];
  pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
  while (!stop->load()) {
    int ready = poll(fds, 2, 200);
    if (ready < 0) break;
    if (ready == 0) continue;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) {
        closed = true;
        break;
      }
      int out = fds[1 - i].fd;
      for (ssize_t sent = 0; sent < n;) {
        ssize_t w = write(out, buffer + sent, n - sent);
        if (w <= 0) {
          closed = true;
          break;
        }
        sent += w;
      }
    }
    if (closed) break;
  }
  close(client);
  close(upstream);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MockBroker>> MockBroker::Start(int brokers, int partitions,
                                                              const std::string& listen_address) {
  std::unique_ptr<MockBroker> broker(new MockBroker());
  KAM_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, kafka::NewConf(kafka::KafkaOptions{}, {}));
  KAM_ASSIGN_OR_RETURN(broker->handle_, kafka::NewHandle(RD_KAFKA_PRODUCER, conf));
  broker->cluster_ = rd_kafka_mock_cluster_new(broker->handle_.get(), brokers);
  if (broker->cluster_ == nullptr) return absl::InternalError("rd_kafka_mock_cluster_new failed");
  for (const char* topic :
       {kafka_topics::kAccounts, kafka_topics::kManagers, kafka_topics::kInteractions,
        kafka_topics::kAlerts, kafka_topics::kDeadLetter}) {
    KAM_RETURN_IF_ERROR(broker->CreateTopic(topic, partitions));
  }
  if (listen_address.empty()) return broker;

  std::string host;
  int port = 0;
  KAM_RETURN_IF_ERROR(SplitHostPort(listen_address, "--listen", &host, &port));
  broker->listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(broker->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--listen: not an IPv4 address: ", host));
  }
  if (bind(broker->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(broker->listen_fd_, 64) != 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen: cannot bind ", listen_address, ": ", std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  getsockname(broker->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  broker->relay_address_ = absl::StrCat(host, ":", ntohs(addr.sin_port));
  broker->accept_thread_ = std::thread([b = broker.get()] { b->AcceptLoop(); });
  return broker;
}

MockBroker::~MockBroker() {
  stop_.store(true);
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  for (auto& pump : pumps_) pump.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

void MockBroker::AcceptLoop() {
  pollfd pfd{listen_fd_, POLLIN, 0};
  while (!stop_.load()) {
    int ready = poll(&pfd, 1, 200);
    if (ready <= 0) continue;
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    // Bootstrap connections go to the first mock broker, which answers metadata for all.
    std::string bootstraps = cluster_bootstraps();
    std::string first = bootstraps.substr(0, bootstraps.find(','));
    int upstream = ConnectTo(first);
    if (upstream < 0) {
      close(client);
      continue;
    }
    pumps_.emplace_back(Pump, client, upstream, &stop_);
  }
}

absl::Status MockBroker::CreateTopic(const std::string& topic, int partitions) {
  return kafka::FromKafka(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
                          absl::StrCat("mock topic ", topic));
}

std::string MockBroker::cluster_bootstraps() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_);
}

std::string MockBroker::bootstrap() const {
  return relay_address_.empty() ? cluster_bootstraps() : relay_address_;
}

absl::Status MockBroker::SetBrokerUp(int id, bool up) {
  rd_kafka_resp_err_t err =
      up ? rd_kafka_mock_broker_set_up(cluster_, id) : rd_kafka_mock_broker_set_down(cluster_, id);
  return kafka::FromKafka(err, "mock broker up/down");
}

}  // namespace kam
