#pragma once

// Serves GET /metrics (Prometheus text format) and GET /healthz over HTTP, or HTTPS when given a
// certificate (--metrics-tls-cert/--metrics-tls-key; Prometheus scrapes with `scheme: https`).
// cpp-httplib (Debian package, built with OpenSSL) is used rather than a hand-written HTTP parser.

#include <memory>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "common/status.h"

namespace httplib {
class Server;
}

namespace kam {

class MetricsServer {
 public:
  explicit MetricsServer(const MetricsRegistry* registry);
  // HTTPS with the PEM certificate chain and key at these paths; an unreadable pair makes
  // Start() fail naming the flags.
  MetricsServer(const MetricsRegistry* registry, const std::string& tls_cert,
                const std::string& tls_key);
  ~MetricsServer();

  // Binds `address` (host:port, port 0 picks one) and serves on a background thread.
  absl::Status Start(const std::string& address);
  void Stop();
  int port() const { return port_; }

 private:
  const MetricsRegistry* registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace kam
