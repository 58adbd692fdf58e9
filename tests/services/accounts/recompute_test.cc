// The derived state of the book, recomputed for a change set on its own: what a new account's
// revenue does to other accounts' tiers and weights, which managers' loads it touches, and that a
// standby's book, built row by row from the same records, answers exactly like the writer's.

#include "services/accounts/recompute.h"

#include <gtest/gtest.h>

#include "services/accounts/book_events.h"

namespace kam::accounts {
namespace {

using kam::v1::Account;
using kam::v1::Manager;

Account Open(const std::string& id, const std::string& owner, int64_t revenue_eur) {
  Account account;
  account.set_id(id);
  account.set_name(id);
  account.set_owner_manager_id(owner);
  account.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_ESTABLISHED);
  account.set_complexity(kam::v1::COMPLEXITY_MEDIUM);
  account.mutable_annual_revenue()->set_currency("EUR");
  account.mutable_annual_revenue()->set_amount_minor(revenue_eur * 100);
  return account;
}

Manager Person(const std::string& id) {
  Manager manager;
  manager.set_id(id);
  manager.set_name(id);
  manager.set_active(true);
  manager.set_capacity(10);
  return manager;
}

class RecomputeTest : public ::testing::Test {
 protected:
  RecomputeTest() : book_(&policy_) {
    book_.PutManager(Person("m1"));
    book_.PutManager(Person("m2"));
    // 100 in total: big is A (70 %), mid B, small C.
    for (Account account :
         {Open("big", "m1", 70), Open("mid", "m1", 20), Open("small", "m2", 10)}) {
      ChangeSet seed;
      seed.accounts[account.id()] = account;
      Recompute(book_, &seed, policy_);
      for (auto& [id, staged] : seed.accounts) book_.PutAccount(staged);
    }
    book_.RecomputeTotal();
  }
  AccountsPolicy policy_;
  BookState book_;
};

TEST_F(RecomputeTest, ANewLargeAccountMovesOtherAccountsTiersAndTouchesTheirManagers) {
  ASSERT_EQ(book_.FindAccount("big")->tier(), kam::v1::TIER_A);
  ASSERT_EQ(book_.FindAccount("mid")->tier(), kam::v1::TIER_B);
  ChangeSet changes;
  changes.accounts["giant"] = Open("giant", "m2", 300);
  DerivedChanges derived = Recompute(book_, &changes, policy_);

  // 400 in total: giant alone is 75 % -> A; big (before it: 75 %) drops to B, mid to C.
  EXPECT_EQ(changes.accounts.at("giant").tier(), kam::v1::TIER_A);
  EXPECT_EQ(changes.accounts.at("big").tier(), kam::v1::TIER_B);
  EXPECT_EQ(changes.accounts.at("mid").tier(), kam::v1::TIER_C);
  EXPECT_LT(changes.accounts.at("big").weight(), book_.FindAccount("big")->weight());
  // small's tier stays C, but its share fell from 10 % to 2.5 %: published for concentration.
  EXPECT_EQ(derived.derived_only, (std::set<std::string>{"big", "mid", "small"}));
  EXPECT_EQ(derived.affected_managers, (std::set<std::string>{"m1", "m2"}))
      << "m2 gains giant; m1's accounts lost weight";
  EXPECT_DOUBLE_EQ(derived.total_revenue, 400);
  EXPECT_DOUBLE_EQ(changes.accounts.at("giant").revenue_share(), 0.75);
  // Nothing changed in the book itself: Recompute only stages.
  EXPECT_EQ(book_.FindAccount("big")->tier(), kam::v1::TIER_A);
  EXPECT_EQ(book_.FindAccount("giant"), nullptr);

  kam::v1::ManagerLoad m1 = LoadAfter(book_, changes, "m1");
  EXPECT_EQ(m1.account_count(), 2);
  EXPECT_DOUBLE_EQ(m1.load(),
                   changes.accounts.at("big").weight() + changes.accounts.at("mid").weight());
}

TEST_F(RecomputeTest, ClosingAnAccountDropsItsWeightAndFreesItsManager) {
  ChangeSet changes;
  Account closed = *book_.FindAccount("small");
  closed.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_CHURNED);
  changes.accounts["small"] = closed;
  DerivedChanges derived = Recompute(book_, &changes, policy_);
  EXPECT_EQ(changes.accounts.at("small").weight(), 0);
  EXPECT_EQ(changes.accounts.at("small").revenue_share(), 0);
  EXPECT_DOUBLE_EQ(derived.total_revenue, 90);
  EXPECT_TRUE(derived.affected_managers.count("m2"));
  EXPECT_EQ(LoadAfter(book_, changes, "m2").account_count(), 0);
}

TEST_F(RecomputeTest, EventsCarryThePrimaryChangeThenDerivedAccountsThenLoads) {
  ChangeSet changes;
  changes.accounts["giant"] = Open("giant", "m2", 300);
  DerivedChanges derived = Recompute(book_, &changes, policy_);
  std::vector<OutboundEvent> events =
      BuildEvents(book_, changes, {{PrimaryChange::kAccountCreated, "giant"}}, derived);
  // created, big and mid re-tiered, small's share moved, two loads
  ASSERT_EQ(events.size(), 6u);
  EXPECT_TRUE(events[0].envelope->has_account_created());
  EXPECT_TRUE(events[1].envelope->has_account_updated());
  EXPECT_TRUE(events[2].envelope->has_account_updated());
  const auto& small = events[3].envelope->account_updated();
  EXPECT_EQ(small.account().id(), "small");
  EXPECT_EQ(std::vector<std::string>(small.changed_fields().begin(), small.changed_fields().end()),
            std::vector<std::string>{"revenue_share"});
  EXPECT_DOUBLE_EQ(small.account().revenue_share(), 0.025);
  EXPECT_EQ(events[4].envelope->manager_load_changed().load().manager_id(), "m1");
  EXPECT_EQ(events[5].envelope->manager_load_changed().load().account_count(), 2);
}

TEST_F(RecomputeTest, ALargeAccountIsPublishedWhenItsShareMovesAWholePoint) {
  // Revenue concentration is judged from the events alone: an account holding 10 % or more is
  // published when its share crosses a whole percentage point, a small one never for its share.
  ChangeSet nudge;
  Account mid = *book_.FindAccount("mid");
  mid.mutable_annual_revenue()->set_amount_minor(2050);  // 20 -> 20.5 EUR: total 100.5
  nudge.accounts["mid"] = mid;
  DerivedChanges derived = Recompute(book_, &nudge, policy_);
  // big: 70 % -> 69.65 %, small: 10 % -> 9.95 % (both cross a point); nothing else.
  EXPECT_EQ(derived.derived_only, (std::set<std::string>{"big", "small"}));

  ChangeSet tiny;
  tiny.accounts["dust"] = Open("dust", "m2", 0);
  EXPECT_TRUE(Recompute(book_, &tiny, policy_).derived_only.empty())
      << "no share moved: nothing to publish";
}

TEST_F(RecomputeTest, AStandbyBuiltFromTheStoredRowsAnswersLikeTheWriter) {
  BookState standby(&policy_);
  for (const auto& [id, manager] : book_.managers()) {
    ASSERT_TRUE(standby.ApplyRow(kManagersCf, BookKey(id), manager.SerializeAsString()).ok());
  }
  for (const auto& [id, account] : book_.accounts()) {
    ASSERT_TRUE(standby.ApplyRow(kAccountsCf, BookKey(id), account.SerializeAsString()).ok());
  }
  standby.RecomputeTotal();
  EXPECT_EQ(standby.total_revenue(), book_.total_revenue());
  for (const auto& [id, account] : book_.accounts()) {
    EXPECT_EQ(standby.WithShare(account).SerializeAsString(),
              book_.WithShare(account).SerializeAsString());
  }
  EXPECT_EQ(standby.LoadOf(*standby.FindManager("m1"), standby.OwnedOpen("m1")).SerializeAsString(),
            book_.LoadOf(*book_.FindManager("m1"), book_.OwnedOpen("m1")).SerializeAsString());
  // A row that is not the book's is refused, not guessed at.
  EXPECT_FALSE(standby.ApplyRow(kAccountsCf, "no-prefix", "x").ok());
}

}  // namespace
}  // namespace kam::accounts
