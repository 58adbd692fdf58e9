// kamctl alerts snooze, and kamctl silences create / list / expire.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/time_util.h"
#include "tools/kamctl/commands.h"

namespace kam::ctl {
namespace {

// The end of a snooze or silence: `--until` (RFC 3339) or `--for` (a duration such as 2h, 90m,
// 72h) from `from`. Exactly one must be given.
bool EndTime(const std::string& until, const std::string& for_duration, absl::Time from,
             google::protobuf::Timestamp* end) {
  if (until.empty() == for_duration.empty()) {
    std::fprintf(stderr, "kamctl: give one of --until (RFC 3339) or --for (e.g. 2h, 90m)\n");
    return false;
  }
  absl::Time when;
  if (!until.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, until, &when, &error)) {
      std::fprintf(stderr, "kamctl: --until: expected RFC 3339 (2026-12-01T09:00:00Z): %s\n",
                   error.c_str());
      return false;
    }
  } else {
    absl::Duration duration;
    if (!absl::ParseDuration(for_duration, &duration) || duration <= absl::ZeroDuration()) {
      std::fprintf(stderr, "kamctl: --for: expected a positive duration such as 2h or 90m\n");
      return false;
    }
    when = from + duration;
  }
  *end = TimestampFromMillis(absl::ToUnixMillis(when));
  return true;
}

std::vector<std::string> SilenceRow(const kam::v1::Silence& s) {
  std::vector<std::string> matchers;
  if (s.rule() != 0) matchers.push_back("rule=" + Short(kam::v1::AlertRule_Name(s.rule())));
  if (!s.account_id().empty()) matchers.push_back("account=" + s.account_id());
  if (!s.manager_id().empty()) matchers.push_back("manager=" + s.manager_id());
  if (s.tier() != 0) matchers.push_back("tier=" + Short(kam::v1::Tier_Name(s.tier())));
  if (s.industry() != 0) {
    matchers.push_back("industry=" + Short(kam::v1::Industry_Name(s.industry())));
  }
  std::string joined;
  for (const auto& matcher : matchers) absl::StrAppend(&joined, joined.empty() ? "" : " ", matcher);
  return {s.id(),         joined,     FormatTime(s.start_time()), FormatTime(s.end_time()),
          s.created_by(), s.comment()};
}

const std::vector<std::string> kSilenceHeader = {"ID",   "MATCHERS", "STARTS",
                                                 "ENDS", "BY",       "COMMENT"};

int PrintSilence(Client& client, const kam::v1::Silence& silence) {
  if (client.options().json) {
    std::cout << ToJson(silence) << "\n";
  } else {
    PrintTable(kSilenceHeader, {SilenceRow(silence)});
  }
  return kOk;
}

}  // namespace

int SnoozeAlert(Client& client, const SnoozeArgs& args) {
  kam::v1::SnoozeAlertRequest request;
  request.set_id(args.id);
  request.set_snoozed_by(args.by);
  request.set_reason(args.reason);
  if (!EndTime(args.until, args.for_duration, absl::Now(), request.mutable_end_time())) {
    return kUsage;
  }
  kam::v1::Alert alert;
  // Snoozing twice to the same end is harmless: safe to retry.
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.alerts().SnoozeAlert(context, request, &alert);
  });
  if (!status.ok()) return Fail(status, "snooze");
  if (client.options().json) {
    std::cout << ToJson(alert) << "\n";
  } else {
    std::cout << alert.id() << " snoozed until " << FormatTime(alert.snooze_end_time()) << " by "
              << alert.snoozed_by() << ": " << alert.snooze_reason() << "\n";
  }
  return kOk;
}

int CreateSilence(Client& client, const SilenceArgs& args) {
  kam::v1::CreateSilenceRequest request;
  // Always a request id: the service config retries CreateSilence on UNAVAILABLE.
  request.set_request_id(args.request_id.empty() ? Client::NewRequestId() : args.request_id);
  auto* silence = request.mutable_silence();
  kam::v1::AlertRule rule = kam::v1::ALERT_RULE_UNSPECIFIED;
  kam::v1::Tier tier = kam::v1::TIER_UNSPECIFIED;
  kam::v1::Industry industry = kam::v1::INDUSTRY_UNSPECIFIED;
  if (!ParseEnum(args.rule, "ALERT_RULE_", &kam::v1::AlertRule_Parse, &rule, "--rule") ||
      !ParseEnum(args.tier, "TIER_", &kam::v1::Tier_Parse, &tier, "--tier") ||
      !ParseEnum(args.industry, "INDUSTRY_", &kam::v1::Industry_Parse, &industry, "--industry")) {
    return kUsage;
  }
  silence->set_rule(rule);
  silence->set_tier(tier);
  silence->set_industry(industry);
  silence->set_account_id(args.account);
  silence->set_manager_id(args.manager);
  silence->set_created_by(args.by);
  silence->set_comment(args.comment);
  absl::Time from = absl::Now();
  if (!args.starts.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, args.starts, &from, &error)) {
      std::fprintf(stderr, "kamctl: --starts: expected RFC 3339: %s\n", error.c_str());
      return kUsage;
    }
    *silence->mutable_start_time() = TimestampFromMillis(absl::ToUnixMillis(from));
  }
  if (!EndTime(args.until, args.for_duration, from, silence->mutable_end_time())) return kUsage;
  kam::v1::Silence created;
  grpc::Status status = client.Retry(/*idempotent=*/true, [&](grpc::ClientContext* context) {
    return client.alerts().CreateSilence(context, request, &created);
  });
  if (!status.ok()) return Fail(status, "create silence");
  return PrintSilence(client, created);
}

int ListSilences(Client& client, bool include_expired) {
  kam::v1::ListSilencesRequest request;
  request.set_include_expired(include_expired);
  kam::v1::ListSilencesResponse response;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.alerts().ListSilences(context, request, &response);
  });
  if (!status.ok()) return Fail(status, "list silences");
  std::vector<std::vector<std::string>> rows;
  for (const auto& silence : response.silences()) {
    if (client.options().json) {
      std::cout << ToJson(silence) << "\n";
    } else {
      rows.push_back(SilenceRow(silence));
    }
  }
  if (!client.options().json) PrintTable(kSilenceHeader, rows);
  return kOk;
}

int ExpireSilence(Client& client, const std::string& id) {
  kam::v1::ExpireSilenceRequest request;
  request.set_id(id);
  kam::v1::Silence expired;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.alerts().ExpireSilence(context, request, &expired);
  });
  if (!status.ok()) return Fail(status, "expire silence");
  return PrintSilence(client, expired);
}

}  // namespace kam::ctl
