// kamctl loads rebalance / what-if: the reassignment plan that relieves overloaded managers
// (AccountsService.SuggestReassignments), applied on request; and the loads a set of moves would
// give. Weights do not change when an account changes hands, so a what-if is exact arithmetic on
// the current loads.

#include <cstdio>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "tools/kamctl/commands.h"

namespace kam::ctl {
int Rebalance(Client& client, const std::string& manager, bool apply) {
  kam::v1::SuggestReassignmentsRequest request;
  request.set_manager_id(manager);
  kam::v1::SuggestReassignmentsResponse plan;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().SuggestReassignments(context, request, &plan);
  });
  if (!status.ok()) return Fail(status, "rebalance");
  if (client.options().json) {
    std::cout << ToJson(plan) << "\n";
  } else if (plan.suggestions_size() == 0 && plan.unrelieved_size() == 0) {
    std::cout << "nobody is over capacity: nothing to move\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& move : plan.suggestions()) {
      rows.push_back({move.account_name(), Short(kam::v1::Tier_Name(move.tier())),
                      Fixed(move.weight()), move.from_manager_name(),
                      absl::StrCat(Percent(move.from_utilisation_before()), " -> ",
                                   Percent(move.from_utilisation_after())),
                      move.to_manager_name(),
                      absl::StrCat(Percent(move.to_utilisation_before()), " -> ",
                                   Percent(move.to_utilisation_after())),
                      move.reason()});
    }
    if (!rows.empty()) {
      PrintTable({"ACCOUNT", "TIER", "WEIGHT", "FROM", "FROM LOAD", "TO", "TO LOAD", "WHY"}, rows);
    }
    for (const auto& manager : plan.unrelieved()) {
      std::cout << "cannot relieve " << manager.manager_name() << " (" << manager.manager_id()
                << "): stays at " << Percent(manager.utilisation_after()) << ": "
                << manager.reason() << "\n";
    }
  }
  if (!apply) {
    if (plan.suggestions_size() > 0 && !client.options().json) {
      std::cout << "apply with: kamctl loads rebalance" << (manager.empty() ? "" : " --manager ")
                << manager << " --apply\n";
    }
    return kOk;
  }
  // Applied one move at a time. A move someone else made meanwhile is refused (the account has
  // another owner now): run rebalance again, it plans from the book as it is then.
  int applied = 0;
  for (const auto& move : plan.suggestions()) {
    kam::v1::ReassignAccountRequest reassign;
    reassign.set_account_id(move.account_id());
    reassign.set_new_manager_id(move.to_manager_id());
    reassign.set_reason(absl::StrCat("rebalance: relieve ", move.from_manager_name()));
    kam::v1::Account moved;
    status = client.Retry(false, [&](grpc::ClientContext* context) {
      return client.accounts().ReassignAccount(context, reassign, &moved);
    });
    if (!status.ok()) {
      std::cerr << "kamctl: applied " << applied << " of " << plan.suggestions_size()
                << " moves; run `kamctl loads rebalance` again for a fresh plan\n";
      return Fail(status, absl::StrCat("move ", move.account_id()));
    }
    ++applied;
  }
  if (!client.options().json) std::cout << "applied " << applied << " moves\n";
  return plan.unrelieved_size() > 0 ? kRejected : kOk;
}

int WhatIf(Client& client, const std::vector<std::string>& moves) {
  struct Change {
    std::string account, to;
  };
  std::vector<Change> changes;
  for (const auto& move : moves) {
    const size_t colon = move.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == move.size()) {
      std::fprintf(stderr, "kamctl: --move: expected ACCOUNT_ID:MANAGER_ID, got \"%s\"\n",
                   move.c_str());
      return kUsage;
    }
    changes.push_back({move.substr(0, colon), move.substr(colon + 1)});
  }
  std::map<std::string, kam::v1::ManagerLoad> before;
  std::map<std::string, double> after;
  auto load_of = [&](const std::string& id) -> grpc::Status {
    if (before.count(id)) return grpc::Status::OK;
    kam::v1::GetManagerLoadRequest request;
    request.set_manager_id(id);
    kam::v1::ManagerLoad load;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().GetManagerLoad(context, request, &load);
    });
    if (status.ok()) {
      after[id] = load.load();
      before[id] = std::move(load);
    }
    return status;
  };
  for (const auto& change : changes) {
    kam::v1::GetAccountRequest get;
    get.set_id(change.account);
    kam::v1::Account account;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().GetAccount(context, get, &account);
    });
    if (!status.ok()) return Fail(status, "what-if");
    status = load_of(change.to);
    if (!status.ok()) return Fail(status, "what-if");
    if (!account.owner_manager_id().empty()) {
      status = load_of(account.owner_manager_id());
      if (!status.ok()) return Fail(status, "what-if");
      after[account.owner_manager_id()] -= account.weight();
    }
    after[change.to] += account.weight();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [id, load] : before) {
    const double now = after[id];
    rows.push_back({load.manager_name(), Fixed(load.capacity()),
                    absl::StrCat(Fixed(load.load()), " (", Percent(load.utilisation()), ")"),
                    absl::StrCat(Fixed(now), " (", Percent(now / load.capacity()), ")"),
                    now > load.capacity() + 1e-9 ? "over capacity" : ""});
  }
  PrintTable({"MANAGER", "CAPACITY", "LOAD NOW", "LOAD AFTER", ""}, rows);
  return kOk;
}

}  // namespace kam::ctl
