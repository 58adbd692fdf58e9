#include "services/alerts/rules.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "kam/v1/accounts.pb.h"
#include "nlohmann/json.hpp"
#include "services/alerts/rule_format.h"

namespace kam::alerts {
namespace {

std::string NameOf(const kam::internal::v1::PortfolioFact& fact) {
  return fact.account_name().empty() ? fact.account_id() : fact.account_name();
}

// The portfolio symptoms as evidence lines (none when the portfolio shows none).
void AddSymptoms(const PortfolioSymptoms& symptoms,
                 std::vector<std::pair<std::string, std::string>>* evidence) {
  if (symptoms.strained == 0) return;
  evidence->emplace_back("portfolio_strained_accounts",
                         absl::StrCat(symptoms.strained, " of ", symptoms.portfolio));
  if (symptoms.falling > 0) {
    evidence->emplace_back("portfolio_satisfaction_falling", symptoms.falling_accounts);
  }
  if (symptoms.overdue > 0) {
    evidence->emplace_back("portfolio_requests_overdue", symptoms.overdue_accounts);
  }
  if (symptoms.churning > 0) {
    evidence->emplace_back("portfolio_churn_risk", symptoms.churn_accounts);
  }
  evidence->emplace_back("portfolio_symptoms_since", Date(symptoms.since_millis));
}

void ReadRule(const nlohmann::json& json, RuleConfig* rule) {
  auto read = [&](const char* key, auto* out) {
    if (json.contains(key)) *out = json.at(key).get<std::remove_pointer_t<decltype(out)>>();
  };
  read("level_alpha", &rule->level_alpha);
  read("baseline_alpha", &rule->baseline_alpha);
  read("falling_min_answers", &rule->falling_min_answers);
  read("falling_fire_drop", &rule->falling_fire_drop);
  read("falling_resolve_drop", &rule->falling_resolve_drop);
  read("falling_critical_drop", &rule->falling_critical_drop);
  read("complaint_penalty", &rule->complaint_penalty);
  read("detractor_window", &rule->detractor_window);
  read("detractors_for_critical", &rule->detractors_for_critical);
  read("low_fire_level", &rule->low_fire_level);
  read("low_resolve_level", &rule->low_resolve_level);
  read("low_critical_level", &rule->low_critical_level);
  read("low_min_answers", &rule->low_min_answers);
  read("overload_fire", &rule->overload_fire);
  read("overload_critical", &rule->overload_critical);
  read("overload_resolve", &rule->overload_resolve);
  read("strain_min_accounts", &rule->strain_min_accounts);
  read("strain_fire_share", &rule->strain_fire_share);
  read("strain_resolve_share", &rule->strain_resolve_share);
  read("strain_critical_share", &rule->strain_critical_share);
  if (json.contains("response_benchmark_hours")) {
    rule->response_benchmark_millis =
        static_cast<int64_t>(json.at("response_benchmark_hours").get<double>() * 3600 * 1000);
  }
  if (json.contains("no_contact_days")) {
    rule->no_contact_millis =
        static_cast<int64_t>(json.at("no_contact_days").get<double>() * 86400 * 1000);
  }
  read("max_signals", &rule->max_signals);
  auto read_days = [&](const char* key, int64_t* out) {
    if (json.contains(key)) *out = static_cast<int64_t>(json.at(key).get<double>() * 86400 * 1000);
  };
  read_days("renewal_window_days", &rule->renewal_window_millis);
  read_days("renewal_warning_days", &rule->renewal_warning_millis);
  read_days("renewal_critical_days", &rule->renewal_critical_millis);
  read("dependency_share", &rule->dependency_share);
  read("key_account_share", &rule->key_account_share);
  read("concentration_resolve_margin", &rule->concentration_resolve_margin);
}

absl::Status CheckRule(const RuleConfig& r, const std::string& where) {
  auto bad = [&](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
  };
  if (!(r.level_alpha > 0 && r.level_alpha <= 1 && r.baseline_alpha > 0 && r.baseline_alpha <= 1)) {
    return bad("alphas must be in (0, 1]");
  }
  if (!(r.falling_resolve_drop < r.falling_fire_drop))
    return bad("falling_resolve_drop must be below falling_fire_drop");
  if (!(r.low_resolve_level > r.low_fire_level))
    return bad("low_resolve_level must be above low_fire_level");
  if (!(r.overload_resolve < r.overload_fire && r.overload_fire <= r.overload_critical)) {
    return bad("need overload_resolve < overload_fire <= overload_critical");
  }
  if (!(r.strain_min_accounts >= 1 && r.strain_resolve_share < r.strain_fire_share &&
        r.strain_fire_share <= r.strain_critical_share && r.strain_resolve_share >= 0)) {
    return bad(
        "need strain_min_accounts >= 1 and "
        "0 <= strain_resolve_share < strain_fire_share <= strain_critical_share");
  }
  if (r.response_benchmark_millis <= 0 || r.no_contact_millis <= 0 || r.max_signals < 3) {
    return bad("durations must be > 0 and max_signals >= 3");
  }
  if (!(0 < r.renewal_critical_millis && r.renewal_critical_millis <= r.renewal_warning_millis &&
        r.renewal_warning_millis <= r.renewal_window_millis)) {
    return bad("need 0 < renewal_critical_days <= renewal_warning_days <= renewal_window_days");
  }
  if (!(r.concentration_resolve_margin >= 0 &&
        r.key_account_share - r.concentration_resolve_margin >= 0.1 &&
        r.key_account_share < r.dependency_share && r.dependency_share < 1)) {
    return bad(
        "need 0.1 <= key_account_share - concentration_resolve_margin, "
        "key_account_share < dependency_share < 1, and a margin >= 0");
  }
  return absl::OkStatus();
}

kam::v1::AlertRule ParseRuleName(const std::string& where, const std::string& name) {
  kam::v1::AlertRule rule;
  if (!kam::v1::AlertRule_Parse("ALERT_RULE_" + name, &rule) &&
      !kam::v1::AlertRule_Parse(name, &rule)) {
    throw std::invalid_argument(absl::StrCat(where, ".", name, ": unknown rule"));
  }
  return rule;
}

// "damping": {"MANAGER_OVERLOADED": {"pending_minutes": 15, "hold_minutes": 60}, ...} and
// "quiet_when_grouped": ["SATISFACTION_LOW", ...].
void ReadNotifying(const nlohmann::json& json, RulesConfig* rules) {
  if (json.contains("damping")) {
    for (const auto& [name, values] : json.at("damping").items()) {
      const kam::v1::AlertRule rule = ParseRuleName("damping", name);
      Damping damping;
      for (const auto& [key, value] : values.items()) {
        const double minutes = value.get<double>();
        if (!(minutes >= 0 && minutes <= 7 * 24 * 60)) {
          throw std::invalid_argument(
              absl::StrCat("damping.", name, ".", key, ": must be 0 to 10080 minutes"));
        }
        const auto millis = static_cast<int64_t>(minutes * 60 * 1000);
        if (key == "pending_minutes") {
          damping.pending_millis = millis;
        } else if (key == "hold_minutes") {
          damping.hold_millis = millis;
        } else {
          throw std::invalid_argument(absl::StrCat(
              "damping.", name, ".", key, ": unknown; use pending_minutes and hold_minutes"));
        }
      }
      rules->damping[rule] = damping;
    }
  }
  if (json.contains("quiet_when_grouped")) {
    rules->quiet_when_grouped.clear();
    for (const auto& name : json.at("quiet_when_grouped")) {
      const kam::v1::AlertRule rule = ParseRuleName("quiet_when_grouped", name.get<std::string>());
      if (!IsGroupedRule(rule)) {
        throw std::invalid_argument(absl::StrCat(
            "quiet_when_grouped: ", name.get<std::string>(),
            " is not grouped (only SATISFACTION_FALLING, SATISFACTION_LOW, RESPONSE_OVERDUE)"));
      }
      rules->quiet_when_grouped.insert(rule);
    }
  }
}

}  // namespace

const RuleConfig& RulesConfig::For(int industry) const {
  auto it = by_industry.find(industry);
  return it == by_industry.end() ? defaults : it->second;
}

Damping RulesConfig::DampingFor(int rule) const {
  auto it = damping.find(rule);
  return it == damping.end() ? Damping{} : it->second;
}

bool IsGroupedRule(kam::v1::AlertRule rule) {
  return rule == kam::v1::ALERT_RULE_SATISFACTION_FALLING ||
         rule == kam::v1::ALERT_RULE_SATISFACTION_LOW ||
         rule == kam::v1::ALERT_RULE_RESPONSE_OVERDUE;
}

absl::StatusOr<RulesConfig> LoadRules(const std::string& path) {
  RulesConfig rules;
  if (path.empty()) return rules;
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--rules-file: cannot read ", path));
  nlohmann::json json = nlohmann::json::parse(in, nullptr, false, true);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rules-file: ", path, " is not a JSON object"));
  }
  try {
    if (json.contains("defaults")) ReadRule(json["defaults"], &rules.defaults);
    KAM_RETURN_IF_ERROR(CheckRule(rules.defaults, "defaults"));
    if (json.contains("industries")) {
      for (const auto& [name, overrides] : json["industries"].items()) {
        kam::v1::Industry industry;
        if (!kam::v1::Industry_Parse(name, &industry)) {
          return absl::InvalidArgumentError(
              absl::StrCat("industries.", name, ": unknown industry"));
        }
        RuleConfig rule = rules.defaults;
        ReadRule(overrides, &rule);
        KAM_RETURN_IF_ERROR(CheckRule(rule, absl::StrCat("industries.", name)));
        rules.by_industry[industry] = rule;
      }
    }
    ReadNotifying(json, &rules);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--rules-file: ", e.what()));
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(absl::StrCat("--rules-file: ", e.what()));
  }
  return rules;
}

SatisfactionLevels ComputeLevels(const kam::internal::v1::AlertAccountState& account,
                                 const RuleConfig& config) {
  SatisfactionLevels levels;
  bool started = false;
  std::vector<bool> detractors;
  for (const auto& signal : account.signals()) {
    if (signal.complaint()) {
      if (started) levels.level = std::max(0.0, levels.level - config.complaint_penalty);
      continue;
    }
    if (!started) {
      levels.level = levels.baseline = signal.score();
      started = true;
    } else {
      levels.level = config.level_alpha * signal.score() + (1 - config.level_alpha) * levels.level;
      levels.baseline =
          config.baseline_alpha * signal.score() + (1 - config.baseline_alpha) * levels.baseline;
    }
    ++levels.answers;
    detractors.push_back(signal.detractor());
  }
  for (size_t i = detractors.size() > static_cast<size_t>(config.detractor_window)
                      ? detractors.size() - config.detractor_window
                      : 0;
       i < detractors.size(); ++i) {
    levels.recent_detractors += detractors[i];
  }
  return levels;
}

namespace {

std::string RecentAnswers(const kam::internal::v1::AlertAccountState& account, int count) {
  std::string text;
  int shown = 0;
  for (int i = account.signals_size() - 1; i >= 0 && shown < count; --i) {
    const auto& signal = account.signals(i);
    std::string item = signal.complaint() ? "complaint" : Fixed(signal.score(), 0);
    text = shown == 0 ? item : item + ", " + text;
    ++shown;
  }
  return text;
}

}  // namespace

Desired SatisfactionFalling(const kam::internal::v1::AlertAccountState& account,
                            const RuleConfig& config, bool open_now) {
  Desired desired;
  SatisfactionLevels levels = ComputeLevels(account, config);
  double drop = levels.baseline - levels.level;
  if (levels.answers < config.falling_min_answers) return desired;
  desired.open = open_now ? drop >= config.falling_resolve_drop : drop >= config.falling_fire_drop;
  if (!desired.open) return desired;
  desired.severity = drop >= config.falling_critical_drop ||
                             levels.recent_detractors >= config.detractors_for_critical
                         ? kam::v1::SEVERITY_CRITICAL
                         : kam::v1::SEVERITY_WARNING;
  desired.summary = absl::StrCat("Satisfaction of ",
                                 account.name().empty() ? account.account_id() : account.name(),
                                 " fell ", Fixed(drop), " points below its baseline (",
                                 Fixed(levels.level), " vs ", Fixed(levels.baseline), ")");
  desired.evidence = {
      {"level", Fixed(levels.level)},
      {"baseline", Fixed(levels.baseline)},
      {"drop", Fixed(drop)},
      {"threshold", absl::StrCat("fire at ", Fixed(config.falling_fire_drop), ", resolve below ",
                                 Fixed(config.falling_resolve_drop))},
      {"window",
       absl::StrCat(levels.answers, " answers (level: EWMA alpha ", Fixed(config.level_alpha, 2),
                    ", baseline: alpha ", Fixed(config.baseline_alpha, 2), ")")},
      {"recent_answers", RecentAnswers(account, 6)},
      {"recent_detractors",
       absl::StrCat(levels.recent_detractors, " of the last ", config.detractor_window)},
  };
  return desired;
}

Desired SatisfactionLow(const kam::internal::v1::AlertAccountState& account,
                        const RuleConfig& config, bool open_now) {
  Desired desired;
  SatisfactionLevels levels = ComputeLevels(account, config);
  if (levels.answers < config.low_min_answers) return desired;
  desired.open =
      open_now ? levels.level < config.low_resolve_level : levels.level < config.low_fire_level;
  if (!desired.open) return desired;
  desired.severity = levels.level < config.low_critical_level ? kam::v1::SEVERITY_CRITICAL
                                                              : kam::v1::SEVERITY_WARNING;
  desired.summary = absl::StrCat("Satisfaction of ",
                                 account.name().empty() ? account.account_id() : account.name(),
                                 " is in detractor territory (level ", Fixed(levels.level), ")");
  desired.evidence = {{"level", Fixed(levels.level)},
                      {"threshold", absl::StrCat("fire below ", Fixed(config.low_fire_level),
                                                 ", resolve at ", Fixed(config.low_resolve_level))},
                      {"window", absl::StrCat(levels.answers, " answers")},
                      {"recent_answers", RecentAnswers(account, 6)}};
  return desired;
}

Desired ManagerOverloaded(const kam::internal::v1::AlertManagerState& manager,
                          const RuleConfig& config, bool open_now) {
  Desired desired;
  if (manager.capacity() <= 0) return desired;
  double utilisation = manager.load() / manager.capacity();
  desired.open =
      open_now ? utilisation > config.overload_resolve : utilisation > config.overload_fire;
  if (!desired.open) return desired;
  desired.severity = utilisation >= config.overload_critical ? kam::v1::SEVERITY_CRITICAL
                                                             : kam::v1::SEVERITY_WARNING;
  desired.summary =
      absl::StrCat(manager.name().empty() ? manager.manager_id() : manager.name(), " carries ",
                   Fixed(manager.load(), 2), " against a capacity of ",
                   Fixed(manager.capacity(), 2), " (", Fixed(utilisation * 100, 0), "%)");
  std::string accounts;
  for (const auto& account : manager.top_accounts()) {
    accounts += (accounts.empty() ? "" : ", ") + account;
  }
  desired.evidence = {
      {"load", Fixed(manager.load(), 2)},
      {"capacity", Fixed(manager.capacity(), 2)},
      {"utilisation", Fixed(utilisation, 3)},
      {"accounts", absl::StrCat(manager.account_count())},
      {"heaviest_accounts", accounts},
      {"threshold", absl::StrCat("warning above ", Fixed(config.overload_fire, 2),
                                 ", critical from ", Fixed(config.overload_critical, 2),
                                 ", resolve at ", Fixed(config.overload_resolve, 2))}};
  AddSymptoms(Symptoms(manager), &desired.evidence);
  return desired;
}

PortfolioSymptoms Symptoms(const kam::internal::v1::AlertManagerState& manager) {
  PortfolioSymptoms symptoms;
  int members = 0;
  // Only the (few) strained accounts are sorted, by account id, so the evidence reads the same on
  // every replay: this runs for every fact that reaches a portfolio of thousands of accounts.
  std::vector<std::pair<std::string_view, const kam::internal::v1::PortfolioFact*>> facts;
  for (const auto& [id, fact] : manager.portfolio()) {
    if (fact.removed()) continue;
    ++members;
    if (fact.satisfaction_falling() || fact.overdue_requests() > 0 || fact.churn_risk()) {
      facts.emplace_back(id, &fact);
    }
  }
  std::sort(facts.begin(), facts.end());
  for (const auto& [id, fact] : facts) {
    const bool falling = fact->satisfaction_falling();
    const bool overdue = fact->overdue_requests() > 0;
    ++symptoms.strained;
    auto earliest = [&](int64_t since) {
      if (since > 0 && (symptoms.since_millis == 0 || since < symptoms.since_millis)) {
        symptoms.since_millis = since;
      }
    };
    if (falling) {
      ++symptoms.falling;
      absl::StrAppend(&symptoms.falling_accounts, symptoms.falling > 1 ? ", " : "", NameOf(*fact),
                      " (since ", Date(fact->satisfaction_since_millis()), ")");
      earliest(fact->satisfaction_since_millis());
    }
    if (overdue) {
      ++symptoms.overdue;
      absl::StrAppend(&symptoms.overdue_accounts, symptoms.overdue > 1 ? ", " : "", NameOf(*fact),
                      ": ", fact->overdue_requests(), " (since ",
                      Date(fact->overdue_since_millis()), ")");
      earliest(fact->overdue_since_millis());
    }
    if (fact->churn_risk()) {
      ++symptoms.churning;
      absl::StrAppend(&symptoms.churn_accounts, symptoms.churning > 1 ? ", " : "", NameOf(*fact),
                      " (since ", Date(fact->churn_since_millis()), ")");
      earliest(fact->churn_since_millis());
    }
  }
  symptoms.portfolio = std::max(members, manager.account_count());
  return symptoms;
}

Desired PortfolioStrain(const kam::internal::v1::AlertManagerState& manager,
                        const RuleConfig& config, bool open_now, bool overloaded) {
  Desired desired;
  if (overloaded) return desired;  // MANAGER_OVERLOADED carries the symptoms now
  const PortfolioSymptoms symptoms = Symptoms(manager);
  const double share = symptoms.share();
  desired.open =
      symptoms.strained >= config.strain_min_accounts &&
      (open_now ? share >= config.strain_resolve_share : share >= config.strain_fire_share);
  if (!desired.open) return desired;
  desired.severity = share >= config.strain_critical_share ? kam::v1::SEVERITY_CRITICAL
                                                           : kam::v1::SEVERITY_WARNING;
  const std::string name = manager.name().empty() ? manager.manager_id() : manager.name();
  std::string load =
      manager.capacity() > 0
          ? absl::StrCat(" while the load is ", Fixed(manager.load() / manager.capacity() * 100, 0),
                         "% of capacity")
          : "";
  desired.summary = absl::StrCat(
      symptoms.strained, " of ", name, "'s ", symptoms.portfolio,
      " accounts show overload symptoms (satisfaction falling in ", symptoms.falling,
      ", requests overdue in ", symptoms.overdue,
      symptoms.churning > 0 ? absl::StrCat(", churn notices from ", symptoms.churning) : "", ")",
      load);
  AddSymptoms(symptoms, &desired.evidence);
  if (manager.capacity() > 0) {
    desired.evidence.emplace_back("utilisation", Fixed(manager.load() / manager.capacity(), 3));
  }
  desired.evidence.emplace_back(
      "threshold",
      absl::StrCat("fire at ", config.strain_min_accounts, " accounts and ",
                   Fixed(config.strain_fire_share * 100, 0), "% of the portfolio, critical from ",
                   Fixed(config.strain_critical_share * 100, 0), "%, resolve below ",
                   Fixed(config.strain_resolve_share * 100, 0), "%"));
  return desired;
}

Desired ResponseOverdue(const std::string& account_id, const std::string& interaction_id,
                        int64_t open_millis, bool still_open, int64_t clock_millis,
                        const RuleConfig& config) {
  Desired desired;
  int64_t age = clock_millis - open_millis;
  desired.open = still_open && age > config.response_benchmark_millis;
  if (!desired.open) return desired;
  desired.severity = age > 2 * config.response_benchmark_millis ? kam::v1::SEVERITY_CRITICAL
                                                                : kam::v1::SEVERITY_WARNING;
  desired.summary = absl::StrCat("Request ", interaction_id, " of account ", account_id,
                                 " has been open for ", Days(age));
  desired.evidence = {{"interaction_id", interaction_id},
                      {"age", Days(age)},
                      {"benchmark", Days(config.response_benchmark_millis)},
                      {"opened_at_millis", absl::StrCat(open_millis)}};
  return desired;
}

Desired NoContact(const kam::internal::v1::AlertAccountState& account, int64_t clock_millis,
                  const RuleConfig& config) {
  Desired desired;
  bool watched = account.known() && !account.closed() &&
                 (account.key_account() || account.tier() == kam::v1::TIER_A);
  int64_t since = account.last_contact_millis() > 0 ? account.last_contact_millis()
                                                    : account.first_seen_millis();
  int64_t silence = clock_millis - since;
  desired.open = watched && since > 0 && silence > config.no_contact_millis;
  if (!desired.open) return desired;
  desired.summary = absl::StrCat(account.key_account() ? "Key account " : "A-tier account ",
                                 account.name().empty() ? account.account_id() : account.name(),
                                 " has had no contact for ", Days(silence));
  desired.evidence = {{"last_contact_millis", absl::StrCat(account.last_contact_millis())},
                      {"silence", Days(silence)},
                      {"threshold", Days(config.no_contact_millis)},
                      {"key_account", account.key_account() ? "true" : "false"},
                      {"tier", kam::v1::Tier_Name(static_cast<kam::v1::Tier>(account.tier()))}};
  return desired;
}

}  // namespace kam::alerts
