#pragma once

// kam-alerts seen from outside, for e2e tests that feed it input straight onto its topics and
// compare what it published across runs: input records, committed offsets, published outcome.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kam::testing {

// A serialized kam.v1.EventEnvelope with an AccountCreated for `id`, owned by `manager`.
std::string AccountCreatedEvent(const std::string& id, const std::string& manager);

// A serialized kam.v1.EventEnvelope with a survey answer (`nps`) for `account` at `at_millis`.
std::string SurveyEvent(const std::string& account, const std::string& id, int64_t at_millis,
                        int nps);

// A serialized kam.v1.EventEnvelope with a ManagerLoadChanged for `manager` (now).
std::string ManagerLoadEvent(const std::string& manager, double load, double capacity,
                             int accounts);

// The offsets Kafka holds for `group` on partitions 0..2 of `topics`, keyed "topic/partition"
// (committed inside kam-alerts' transactions). Partitions without a commit are absent.
std::map<std::string, int64_t> CommittedOffsets(const std::string& brokers,
                                                const std::string& group,
                                                const std::vector<std::string>& topics);

// True when `group` has committed, on every partition of `topics`, at least the end offset the
// partition has now: everything written so far is applied and its outputs are committed.
bool CaughtUp(const std::string& brokers, const std::string& group,
              const std::vector<std::string>& topics);

struct AlertOutcome {
  std::map<std::string, std::string> open;                // alert id -> severity
  std::map<std::string, std::vector<std::string>> changes;  // alert id -> change types in order
  int duplicates = 0;                                      // CloudEvent ids seen twice
};

// The alerts of the accounts whose ids start with `tag`, as `producers` (kam-producer header
// values) published them on kam.alerts.v1 -- other tests' kam-alerts applications read the same
// input and publish too. PORTFOLIO_STRAIN joins two streams at the manager's task; its history
// depends on how they interleave, which differs between runs (docs/ALERTS.md): its changes count
// for `duplicates` only.
AlertOutcome ReadAlertOutcome(const std::string& brokers, const std::string& tag,
                              const std::set<std::string>& producers);

}  // namespace kam::testing
