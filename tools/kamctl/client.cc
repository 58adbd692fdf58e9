#include "tools/kamctl/client.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/currency.h"
#include "common/ids.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tools/kamctl/service_config.h"

namespace kam::ctl {

namespace {

// A channel that retries and times out as kam's published service config says.
std::shared_ptr<grpc::Channel> Channel(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  grpc::ChannelArguments arguments;
  arguments.SetServiceConfigJSON(kServiceConfigJson);
  return grpc::CreateCustomChannel(address, credentials, arguments);
}

}  // namespace

Client::Client(const Options& options, std::shared_ptr<grpc::ChannelCredentials> credentials)
    : options_(options) {
  accounts_ = kam::v1::AccountsService::NewStub(Channel(options.accounts, credentials));
  interactions_ = kam::v1::InteractionsService::NewStub(Channel(options.interactions, credentials));
  auto alerts = Channel(options.alerts, credentials);
  alerts_ = kam::v1::AlertsService::NewStub(alerts);
  kpis_ = kam::v1::KpiService::NewStub(alerts);
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(options_.timeout_seconds));
  // Added as plain metadata rather than as call credentials: gRPC refuses call credentials on a
  // plaintext channel, and the services decide whether plaintext is acceptable (they refuse
  // tokens without TLS).
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  return context;
}

void Client::GaveUp(int attempts) {
  std::fprintf(stderr,
               "kamctl: gave up after %d attempts (the service kept answering "
               "UNAVAILABLE); raise --timeout to wait longer\n",
               attempts);
}

std::string Client::NewRequestId() { return absl::StrCat("kamctl-", NewUuid()); }

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kOk;
    case grpc::StatusCode::NOT_FOUND:
      return kNotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kRejected;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kUnavailable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kDenied;
    default:
      return kFailed;
  }
}

int Fail(const grpc::Status& status, const std::string& what) {
  std::fprintf(stderr, "kamctl: %s: %s\n", what.c_str(), status.error_message().c_str());
  // The machine-readable part: the reason, and each bad field on its own line.
  google::rpc::Status rich;
  if (!status.error_details().empty() && rich.ParseFromString(status.error_details())) {
    for (const auto& any : rich.details()) {
      google::rpc::ErrorInfo info;
      google::rpc::BadRequest request;
      if (any.UnpackTo(&info)) {
        std::fprintf(stderr, "kamctl: reason: %s\n", info.reason().c_str());
      } else if (any.UnpackTo(&request) && request.field_violations_size() > 1) {
        for (const auto& violation : request.field_violations()) {
          std::fprintf(stderr, "kamctl:   %s: %s\n", violation.field().c_str(),
                       violation.description().c_str());
        }
      }
    }
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::fprintf(stderr, "kamctl: is the service running? (scripts/run starts all three)\n");
  }
  return ExitCodeFor(status.error_code());
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
}

bool IsTerminal() { return isatty(STDOUT_FILENO) == 1; }

std::string FormatMoney(const kam::v1::Money& money) {
  return FormatAmount(money.amount_minor(), money.currency());
}

std::string Fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

std::string Percent(double ratio) { return Fixed(ratio * 100, 0) + "%"; }

std::string FormatTime(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string Short(const std::string& enum_name) {
  size_t underscore = enum_name.find('_');
  std::string rest = enum_name;
  // Enum values carry their type as prefix; keep what follows it.
  for (const char* prefix :
       {"INDUSTRY_", "TIER_", "LIFECYCLE_PHASE_", "COMPLEXITY_", "INTERACTION_TYPE_", "CHANNEL_",
        "ALERT_RULE_", "SEVERITY_", "ALERT_STATE_", "ALERT_CHANGE_KIND_", "GROWTH_POTENTIAL_"}) {
    if (enum_name.rfind(prefix, 0) == 0) {
      rest = enum_name.substr(std::string(prefix).size());
      break;
    }
  }
  (void)underscore;
  return absl::AsciiStrToLower(rest);
}

}  // namespace kam::ctl
