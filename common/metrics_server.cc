#include "common/metrics_server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "common/config.h"

namespace kam {

MetricsServer::MetricsServer(const MetricsRegistry* registry)
    : registry_(registry), server_(std::make_unique<httplib::Server>()) {}

MetricsServer::MetricsServer(const MetricsRegistry* registry, const std::string& tls_cert,
                             const std::string& tls_key)
    : registry_(registry),
      server_(std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str())) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::Status MetricsServer::Start(const std::string& address) {
  std::string host;
  int port = 0;
  KAM_RETURN_IF_ERROR(SplitHostPort(address, "--metrics-listen", &host, &port));
  if (!server_->is_valid()) {
    return absl::InvalidArgumentError(
        "--metrics-tls-cert, --metrics-tls-key: cannot load the certificate and key (PEM)");
  }
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry_->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("--metrics-listen: cannot bind ", address));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void MetricsServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace kam
