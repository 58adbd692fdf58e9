#include "services/accounts/rebalance.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"

namespace kam::accounts {
namespace {

// Loads are sums of doubles: compare with a little slack.
constexpr double kEpsilon = 1e-9;

struct Member {
  PlannedManager manager;
  double load = 0;
  bool carries_a = false;

  double utilisation() const { return load / manager.capacity; }
  double headroom() const { return manager.capacity - load; }
};

std::string Fixed(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", value);
  return buffer;
}

bool Better(const Member& a, const Member& b, const PlannedAccount& account) {
  const bool a_focus = a.manager.industry_focus == account.industry;
  const bool b_focus = b.manager.industry_focus == account.industry;
  if (a_focus != b_focus) return a_focus;
  if (a.headroom() != b.headroom()) return a.headroom() > b.headroom();
  return a.manager.id < b.manager.id;
}

}  // namespace

kam::v1::SuggestReassignmentsResponse PlanReassignments(std::vector<PlannedManager> managers,
                                                        const std::string& only_manager) {
  std::map<std::string, Member> members;
  for (auto& manager : managers) {
    Member member;
    for (const auto& account : manager.accounts) {
      member.load += account.weight;
      member.carries_a |= account.tier == kam::v1::TIER_A;
    }
    const std::string id = manager.id;
    member.manager = std::move(manager);
    members.emplace(id, std::move(member));
  }
  std::vector<Member*> overloaded;
  for (auto& [id, member] : members) {
    if (!only_manager.empty() && id != only_manager) continue;
    if (member.load > member.manager.capacity + kEpsilon) overloaded.push_back(&member);
  }
  std::sort(overloaded.begin(), overloaded.end(), [](const Member* a, const Member* b) {
    if (a->utilisation() != b->utilisation()) return a->utilisation() > b->utilisation();
    return a->manager.id < b->manager.id;
  });

  kam::v1::SuggestReassignmentsResponse response;
  for (Member* from : overloaded) {
    while (from->load > from->manager.capacity + kEpsilon) {
      const double excess = from->load - from->manager.capacity;
      // One account that covers the excess (the lightest such) before anything else; then the
      // heaviest first: as few moves as possible.
      std::vector<const PlannedAccount*> candidates;
      for (const auto& account : from->manager.accounts) candidates.push_back(&account);
      std::sort(candidates.begin(), candidates.end(),
                [&](const PlannedAccount* a, const PlannedAccount* b) {
                  const bool a_covers = a->weight >= excess - kEpsilon;
                  const bool b_covers = b->weight >= excess - kEpsilon;
                  if (a_covers != b_covers) return a_covers;
                  if (a->weight != b->weight) {
                    return a_covers ? a->weight < b->weight : a->weight > b->weight;
                  }
                  return a->id < b->id;
                });
      const PlannedAccount* chosen = nullptr;
      Member* to = nullptr;
      for (const PlannedAccount* account : candidates) {
        for (auto& [id, member] : members) {
          if (&member == from || !member.manager.active) continue;
          if (member.load + account->weight > member.manager.capacity + kEpsilon) continue;
          if (account->tier == kam::v1::TIER_A && !member.carries_a) continue;
          if (to == nullptr || Better(member, *to, *account)) to = &member;
        }
        if (to != nullptr) {
          chosen = account;
          break;
        }
      }
      if (chosen == nullptr) {
        auto* unrelieved = response.add_unrelieved();
        unrelieved->set_manager_id(from->manager.id);
        unrelieved->set_manager_name(from->manager.name);
        unrelieved->set_utilisation_after(from->utilisation());
        unrelieved->set_reason(
            from->manager.accounts.empty()
                ? "no open accounts left to move"
                : "no active manager has room for any of the remaining accounts (A-tier accounts "
                  "only go to managers who carry A-tier accounts)");
        break;
      }
      auto* move = response.add_suggestions();
      move->set_account_id(chosen->id);
      move->set_account_name(chosen->name);
      move->set_tier(chosen->tier);
      move->set_weight(chosen->weight);
      move->set_from_manager_id(from->manager.id);
      move->set_from_manager_name(from->manager.name);
      move->set_to_manager_id(to->manager.id);
      move->set_to_manager_name(to->manager.name);
      move->set_from_utilisation_before(from->utilisation());
      move->set_to_utilisation_before(to->utilisation());
      move->set_reason(
          absl::StrCat(chosen->weight >= excess - kEpsilon
                           ? absl::StrCat("covers the excess of ", Fixed(excess), " in one move")
                           : absl::StrCat("heaviest account left (excess ", Fixed(excess), ")"),
                       to->manager.industry_focus == chosen->industry &&
                               chosen->industry != kam::v1::INDUSTRY_UNSPECIFIED
                           ? "; same industry focus"
                           : "",
                       "; most headroom (", Fixed(to->headroom()), ")",
                       chosen->tier == kam::v1::TIER_A ? "; carries A-tier accounts already" : ""));
      const PlannedAccount moved = *chosen;
      from->load -= moved.weight;
      to->load += moved.weight;
      to->carries_a |= moved.tier == kam::v1::TIER_A;
      auto& owned = from->manager.accounts;
      owned.erase(std::find_if(owned.begin(), owned.end(),
                               [&](const PlannedAccount& a) { return a.id == moved.id; }));
      to->manager.accounts.push_back(moved);
      move->set_from_utilisation_after(from->utilisation());
      move->set_to_utilisation_after(to->utilisation());
    }
  }
  return response;
}

}  // namespace kam::accounts
