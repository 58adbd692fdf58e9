#include "tools/alertmanager_bridge/alertmanager_feed.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace kam::bridge {
namespace {

// proto3 JSON timestamps ("2026-11-24T10:00:00Z", fractions allowed) to Unix millis; 0 if absent
// or unreadable.
int64_t MillisOf(const nlohmann::json& data, const char* field) {
  if (!data.contains(field) || !data[field].is_string()) return 0;
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, data[field].get<std::string>(), &time, &error)) return 0;
  return absl::ToUnixMillis(time);
}

std::string Rfc3339(int64_t millis) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(millis),
                          absl::UTCTimeZone());
}

std::string Text(const nlohmann::json& data, const char* field) {
  return data.contains(field) && data[field].is_string() ? data[field].get<std::string>() : "";
}

// "ALERT_RULE_MANAGER_OVERLOADED" -> "MANAGER_OVERLOADED"; "SEVERITY_CRITICAL" -> "critical".
std::string WithoutPrefix(const std::string& name, const std::string& prefix) {
  return absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : name;
}

nlohmann::json ToAlertmanager(const nlohmann::json& data, int64_t ends_millis,
                              const FeedOptions& options) {
  nlohmann::json labels = {
      {"alertname", WithoutPrefix(Text(data, "rule"), "ALERT_RULE_")},
      {"severity", absl::AsciiStrToLower(WithoutPrefix(Text(data, "severity"), "SEVERITY_"))},
      {"fingerprint", Text(data, "fingerprint")},
      {"service", "kam"}};
  // Routing without parsing summaries: the subject and its owner are labels of their own.
  for (const char* field : {"account_id", "manager_id", "parent_account_id", "group_alert_id"}) {
    if (!Text(data, field).empty()) labels[field] = Text(data, field);
  }
  // The account's tier ("a", "b", "c") and key-account mark: routes for the accounts that matter
  // most.
  const std::string tier =
      absl::AsciiStrToLower(WithoutPrefix(Text(data, "account_tier"), "TIER_"));
  if (!tier.empty() && tier != "unspecified") labels["tier"] = tier;
  if (data.contains("key_account") && data["key_account"].is_boolean() &&
      data["key_account"].get<bool>()) {
    labels["key_account"] = "true";
  }
  std::string evidence;
  if (data.contains("evidence") && data["evidence"].is_array()) {
    for (const auto& item : data["evidence"]) {
      absl::StrAppend(&evidence, evidence.empty() ? "" : "\n", Text(item, "name"), ": ",
                      Text(item, "value"));
    }
  }
  nlohmann::json alert = {{"labels", labels},
                          {"annotations",
                           {{"summary", Text(data, "summary")},
                            {"evidence", evidence},
                            {"kam_alert_id", Text(data, "id")}}},
                          {"startsAt", Rfc3339(MillisOf(data, "start_time"))},
                          {"endsAt", Rfc3339(ends_millis)},
                          {"generatorURL", options.link_prefix + Text(data, "id")}};
  return alert;
}

}  // namespace

bool AlertmanagerFeed::Apply(const std::string& cloudevent) {
  nlohmann::json event = nlohmann::json::parse(cloudevent, nullptr, false);
  if (event.is_discarded() || !event.is_object() || !event.contains("data") ||
      !event["data"].is_object() || Text(event, "source") != "kam-alerts") {
    return false;
  }
  const nlohmann::json& data = event["data"];
  const std::string fingerprint = Text(data, "fingerprint");
  if (fingerprint.empty()) return false;
  nlohmann::json kept = data;
  kept["_suppressed"] = event.contains("kamsuppressed") && event["kamsuppressed"].is_boolean() &&
                        event["kamsuppressed"].get<bool>();
  latest_[fingerprint] = std::move(kept);
  return true;
}

nlohmann::json AlertmanagerFeed::Payload(int64_t now_millis) {
  nlohmann::json alerts = nlohmann::json::array();
  for (auto it = latest_.begin(); it != latest_.end();) {
    const nlohmann::json& data = it->second;
    if (Text(data, "state") == "ALERT_STATE_RESOLVED") {
      const int64_t resolved = MillisOf(data, "resolve_time");
      if (now_millis - resolved > options_.resolved_keep_millis) {
        sent_labels_.erase(it->first);
        it = latest_.erase(it);
        continue;
      }
      nlohmann::json alert = ToAlertmanager(data, resolved, options_);
      auto sent = sent_labels_.find(it->first);
      if (sent != sent_labels_.end() && sent->second != alert["labels"]) {
        nlohmann::json ended = alert;  // the firing label set, ended too
        ended["labels"] = sent->second;
        alerts.push_back(std::move(ended));
      }
      alerts.push_back(std::move(alert));
    } else if (!data["_suppressed"].get<bool>() && Text(data, "state") != "ALERT_STATE_SNOOZED") {
      nlohmann::json alert =
          ToAlertmanager(data, now_millis + 3 * options_.resend_millis, options_);
      auto sent = sent_labels_.find(it->first);
      if (sent != sent_labels_.end() && sent->second != alert["labels"]) {
        nlohmann::json ended = alert;
        ended["labels"] = sent->second;
        ended["endsAt"] = Rfc3339(now_millis);
        alerts.push_back(std::move(ended));
      }
      sent_labels_[it->first] = alert["labels"];
      alerts.push_back(std::move(alert));
    }
    ++it;
  }
  return alerts;
}

}  // namespace kam::bridge
