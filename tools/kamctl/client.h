#pragma once

// kamctl's connection to the three services and its output conventions: tables for people,
// JSON (one object per line) for scripts, and exit codes that say what went wrong.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/tls_files.h"
#include "google/protobuf/message.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "kam/v1/kpis.grpc.pb.h"

namespace kam::ctl {

// Exit codes (documented in `kamctl --help` and the README).
enum ExitCode : int {
  kOk = 0,
  kFailed = 1,       // an unexpected server error
  kUsage = 2,        // bad flags or arguments
  kNotFound = 3,     // NOT_FOUND
  kRejected = 4,     // INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED
  kUnavailable = 5,  // UNAVAILABLE, DEADLINE_EXCEEDED: the service is not reachable
  kDenied = 6,       // UNAUTHENTICATED, PERMISSION_DENIED: no, an unknown, or a too weak token
};

struct Options {
  std::string accounts = "127.0.0.1:50051";
  std::string interactions = "127.0.0.1:50052";
  std::string alerts = "127.0.0.1:50053";
  bool json = false;
  int timeout_seconds = 10;
  // TLS (common/grpc_tls.h): ca verifies the services; cert/key for mutual TLS.
  TlsFiles tls;
  // Bearer token sent with every call (--token, KAM_TOKEN or --token-file); empty: none.
  std::string token;
};

class Client {
 public:
  // `credentials`: plaintext, or TLS from options.tls (common/grpc_tls.h).
  Client(const Options& options, std::shared_ptr<grpc::ChannelCredentials> credentials);

  kam::v1::AccountsService::Stub& accounts() { return *accounts_; }
  kam::v1::InteractionsService::Stub& interactions() { return *interactions_; }
  kam::v1::AlertsService::Stub& alerts() { return *alerts_; }
  // Served by kam-alerts (--alerts).
  kam::v1::KpiService::Stub& kpis() { return *kpis_; }
  std::unique_ptr<grpc::ClientContext> Context() const;
  const Options& options() const { return options_; }

  // Runs `call` with a fresh context; while it answers UNAVAILABLE or CANCELLED (a service
  // restarting, a partition or the accounts writer role moving to another instance) and the call is
  // safe to repeat, tries again after 0.2 s, 0.4 s, ... within --timeout, and says on stderr when
  // it gives up. Safe to repeat: reads, and writes that carry a request_id.
  template <typename Call>
  grpc::Status Retry(bool idempotent, Call&& call) const {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.timeout_seconds);
    auto pause = std::chrono::milliseconds(200);
    for (int attempt = 1;; ++attempt) {
      grpc::Status status = call(Context().get());
      // CANCELLED comes from the server here (kamctl never cancels): an instance draining on
      // SIGTERM cuts off what is left after its grace period.
      const bool transient = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             status.error_code() == grpc::StatusCode::CANCELLED;
      if (!transient || !idempotent) return status;
      if (std::chrono::steady_clock::now() + pause >= give_up) {
        GaveUp(attempt);
        return status;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(3200));
    }
  }
  // A request id for a write the user gave none for: makes kamctl's own retries safe.
  static std::string NewRequestId();

 private:
  static void GaveUp(int attempts);

  Options options_;
  std::unique_ptr<kam::v1::AccountsService::Stub> accounts_;
  std::unique_ptr<kam::v1::InteractionsService::Stub> interactions_;
  std::unique_ptr<kam::v1::AlertsService::Stub> alerts_;
  std::unique_ptr<kam::v1::KpiService::Stub> kpis_;
};

// Prints the error the way a person reads it and returns the matching exit code.
int Fail(const grpc::Status& status, const std::string& what);
int ExitCodeFor(grpc::StatusCode code);

// One protobuf message as a JSON line (proto field names).
std::string ToJson(const google::protobuf::Message& message);

// A plain text table with a header row, columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

bool IsTerminal();
std::string FormatMoney(const kam::v1::Money& money);
// "3.14": a number with `digits` decimals.
std::string Fixed(double value, int digits = 2);
// "125%": a ratio (1.25) as a whole percentage.
std::string Percent(double ratio);
std::string FormatTime(const google::protobuf::Timestamp& time);
// Drops the enum prefix: INDUSTRY_SERVICES -> services.
std::string Short(const std::string& enum_name);

// Parses an enum flag given as its short or full name ("a" or "TIER_A"); empty leaves `out`.
// false (after saying so on stderr) for an unknown value.
template <typename Enum>
bool ParseEnum(const std::string& text, const std::string& prefix,
               bool (*parse)(const std::string&, Enum*), Enum* out, const std::string& flag) {
  if (text.empty()) return true;
  if (parse(prefix + absl::AsciiStrToUpper(text), out) || parse(absl::AsciiStrToUpper(text), out)) {
    return true;
  }
  std::fprintf(stderr, "kamctl: %s: unknown value \"%s\"\n", flag.c_str(), text.c_str());
  return false;
}

}  // namespace kam::ctl
