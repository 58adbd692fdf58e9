#include "tools/alertmanager_bridge/pagerduty_feed.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace kam::bridge {
namespace {

std::string Text(const nlohmann::json& data, const char* field) {
  return data.contains(field) && data[field].is_string() ? data[field].get<std::string>() : "";
}

int64_t MillisOf(const nlohmann::json& data, const char* field) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, Text(data, field), &time, &error)) return 0;
  return absl::ToUnixMillis(time);
}

// PagerDuty's severities are critical, error, warning, info.
std::string Severity(const nlohmann::json& data) {
  std::string severity = Text(data, "severity");
  if (absl::StartsWith(severity, "SEVERITY_")) severity = severity.substr(9);
  severity = absl::AsciiStrToLower(severity);
  return severity == "critical" || severity == "warning" || severity == "info" ? severity
                                                                               : "warning";
}

}  // namespace

std::vector<PagerDutyEvent> PagerDutyFeed::Pending(
    const std::map<std::string, nlohmann::json>& latest, int64_t now_millis) {
  std::vector<PagerDutyEvent> events;
  // An incident this feed opened whose alert the stream view no longer holds was resolved and
  // forgotten there (after the keep period) before its resolve got through: resolve it now.
  for (auto it = delivered_.begin(); it != delivered_.end();) {
    const auto& [fingerprint, last] = *it;
    if (latest.count(fingerprint) > 0) {
      ++it;
      continue;
    }
    if (last == "resolve") {  // resolved and forgotten on both sides
      it = delivered_.erase(it);
      continue;
    }
    events.push_back(
        {fingerprint,
         "resolve",
         {{"routing_key", routing_key_}, {"event_action", "resolve"}, {"dedup_key", fingerprint}}});
    ++it;
  }
  for (const auto& [fingerprint, data] : latest) {
    const std::string state = Text(data, "state");
    const bool suppressed = data.value("_suppressed", false) || state == "ALERT_STATE_SNOOZED";
    auto sent = delivered_.find(fingerprint);
    const std::string last = sent == delivered_.end() ? "" : sent->second;
    std::vector<std::string> actions;
    if (state == "ALERT_STATE_RESOLVED") {
      // Resolve what this feed opened, however long ago; after a restart (nothing remembered),
      // what resolved within the keep period.
      if (last != "resolve" &&
          (!last.empty() || now_millis - MillisOf(data, "resolve_time") <= resolved_keep_millis_)) {
        actions.push_back("resolve");
      }
    } else if (!suppressed) {
      if (last.empty() || last == "resolve") actions.push_back("trigger");
      if (state == "ALERT_STATE_ACKNOWLEDGED" && last != "acknowledge") {
        actions.push_back("acknowledge");
      }
    }
    for (const auto& action : actions) {
      nlohmann::json body = {
          {"routing_key", routing_key_}, {"event_action", action}, {"dedup_key", fingerprint}};
      if (action == "trigger") {
        nlohmann::json details = {{"rule", Text(data, "rule")},
                                  {"alert_id", Text(data, "id")},
                                  {"manager_id", Text(data, "manager_id")},
                                  {"account_id", Text(data, "account_id")},
                                  {"account_tier", Text(data, "account_tier")}};
        if (data.contains("key_account")) details["key_account"] = data["key_account"];
        if (data.contains("evidence") && data["evidence"].is_array()) {
          for (const auto& item : data["evidence"])
            details[Text(item, "name")] = Text(item, "value");
        }
        body["payload"] = {{"summary", Text(data, "summary").substr(0, 1024)},  // dumped with
                                                                                // replacement
                           {"source", "kam"},
                           {"severity", Severity(data)},
                           {"timestamp", Text(data, "start_time")},
                           {"component", Text(data, "account_id").empty() ? "manager" : "account"},
                           {"group", Text(data, "manager_id")},
                           {"class", Text(data, "rule")},
                           {"custom_details", details}};
      }
      events.push_back({fingerprint, action, std::move(body)});
    }
  }
  return events;
}

void PagerDutyFeed::Delivered(const PagerDutyEvent& event) {
  delivered_[event.fingerprint] = event.action;
}

}  // namespace kam::bridge
