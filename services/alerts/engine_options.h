#pragma once

// The alerts engine's settings (flags of kam-alerts; tests set their own).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/kafka_topics.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/rules.h"

namespace kam::alerts {

struct EngineOptions {
  RulesConfig rules;
  int64_t idle_millis = 5000;
  // How far (event time) a record may trail the partition's clock and still be judged as if it
  // had come in order: other accounts' timers fire only once the clock is this far past them.
  // 0: a timer fires as soon as any record of the partition passes it.
  int64_t allowed_lateness_millis = 0;
  // How long (wall time) an interaction for an unknown account is held back before it is
  // dead-lettered: its account's event may still be on the way on the other topic. Wall time, not
  // event time: a lagging accounts topic is exactly when event time runs ahead.
  int64_t unknown_account_grace_millis = 2 * 60 * 1000;
  // The repartition topic of this application (consumer group): `<group>.portfolio.v1`.
  std::string portfolio_topic = kafka_topics::kPortfolio;
  // The commands topic of this application: `<group>.commands.v1` (alert_commands.h).
  std::string commands_topic = "kam-alerts.commands.v1";
  // Wall clock in milliseconds (tests substitute their own).
  std::function<int64_t()> wall_clock;
  // Global tables joined when an alert changes; each answer is stored with the change, so a
  // replay decides nothing anew. Unset: nothing is silenced or grouped.
  // Ids of the silences matching the alert (silences.h) active at `at_millis` (wall time); tier and
  // industry of its account.
  std::function<std::vector<std::string>(const kam::v1::Alert& alert, int tier, int industry,
                                         int64_t at_millis)>
      silences_matching;
  // Id of manager `manager_id`'s open MANAGER_OVERLOADED alert; empty when none is open.
  std::function<std::string(const std::string& manager_id)> open_overload_alert;
};

}  // namespace kam::alerts
