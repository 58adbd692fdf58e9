// AccountsBook over a real RocksDB and outbox, no gRPC or Kafka: every rule a client relies on,
// the events each change leaves in the outbox, and that a refused request changes nothing.

#include "services/accounts/accounts_book.h"

#include <gtest/gtest.h>

#include <map>

#include "common/kafka_topics.h"
#include "tests/testing/temp_dir.h"

namespace kam::accounts {
namespace {

using kam::v1::Account;
using kam::v1::Manager;

class AccountsBookTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    book_.reset();
    outbox_.reset();
    store_.reset();
    auto store = Store::Open({.path = dir_.Sub("db")}, AccountsBook::ColumnFamilies());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto outbox = Outbox::Open(store_.get());
    ASSERT_TRUE(outbox.ok());
    outbox_ = std::move(*outbox);
    auto book = AccountsBook::Open(store_.get(), outbox_.get(), AccountsPolicy());
    ASSERT_TRUE(book.ok()) << book.status();
    book_ = std::move(*book);
  }

  Manager NewManager(const std::string& email, int capacity = 0) {
    kam::v1::CreateManagerRequest request;
    request.set_request_id("m-" + email);
    request.mutable_manager()->set_name("Manager " + email);
    request.mutable_manager()->set_email(email);
    request.mutable_manager()->set_industry_focus(kam::v1::INDUSTRY_SERVICES);
    request.mutable_manager()->set_capacity(capacity);
    auto manager = book_->CreateManager(request);
    EXPECT_TRUE(manager.ok()) << manager.status();
    return *manager;
  }

  static kam::v1::CreateAccountRequest AccountRequest(const std::string& name, int64_t revenue,
                                                      const std::string& owner = "") {
    kam::v1::CreateAccountRequest request;
    request.set_request_id("a-" + name);
    Account* account = request.mutable_account();
    account->set_name(name);
    account->set_industry(kam::v1::INDUSTRY_SERVICES);
    account->add_regions("DE");
    account->mutable_annual_revenue()->set_amount_minor(revenue);
    account->mutable_annual_revenue()->set_currency("EUR");
    account->set_owner_manager_id(owner);
    return request;
  }

  Account NewAccount(const std::string& name, int64_t revenue, const std::string& owner = "") {
    auto account = book_->CreateAccount(AccountRequest(name, revenue, owner));
    EXPECT_TRUE(account.ok()) << account.status();
    return *account;
  }

  // Every event in the outbox (not yet published), in commit order.
  std::vector<std::pair<std::string, kam::v1::EventEnvelope>> Events() {
    std::vector<std::pair<std::string, kam::v1::EventEnvelope>> events;
    auto rows = outbox_->ReadPending(0, 100000);
    EXPECT_TRUE(rows.ok());
    for (const auto& row : *rows) {
      kam::v1::EventEnvelope envelope;
      EXPECT_TRUE(envelope.ParseFromString(row.value()));
      EXPECT_EQ(envelope.producer_sequence(), row.sequence());
      events.emplace_back(row.topic(), envelope);
    }
    return events;
  }

  // Snapshot of everything stored, to prove a refused request changed nothing.
  std::string StoredState() {
    std::string state;
    for (const auto& cf : {"managers", "accounts", "requests", "outbox"}) {
      auto it = store_->NewIterator(cf);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        state += it->key().ToString() + "=" + it->value().ToString() + ";";
      }
    }
    return state;
  }

  void ExpectRefused(const absl::Status& status, absl::StatusCode code, const std::string& field,
                     const std::string& before) {
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_NE(status.message().find(field), std::string::npos)
        << "message should name " << field << ": " << status.message();
    EXPECT_EQ(StoredState(), before) << "a refused request must not change the store";
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<AccountsBook> book_;
};

TEST_F(AccountsBookTest, CreateIsIdempotentOnRequestId) {
  Manager manager = NewManager("jane@example.com");
  auto first = book_->CreateAccount(AccountRequest("Acme", 100, manager.id()));
  size_t events = Events().size();
  auto second = book_->CreateAccount(AccountRequest("Acme", 100, manager.id()));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->id(), second->id());
  EXPECT_EQ(book_->account_count(), 1u);
  EXPECT_EQ(Events().size(), events) << "a replayed create publishes nothing new";

  auto reused = AccountRequest("Other name", 100, manager.id());
  reused.set_request_id("a-Acme");
  std::string before = StoredState();
  ExpectRefused(book_->CreateAccount(reused).status(), absl::StatusCode::kAlreadyExists,
                "request_id", before);

  kam::v1::CreateManagerRequest again;
  again.set_request_id("m-jane@example.com");
  again.mutable_manager()->set_name("Manager jane@example.com");
  again.mutable_manager()->set_email("jane@example.com");
  again.mutable_manager()->set_industry_focus(kam::v1::INDUSTRY_SERVICES);
  EXPECT_EQ(book_->CreateManager(again)->id(), manager.id());
  EXPECT_EQ(book_->manager_count(), 1u);
}

TEST_F(AccountsBookTest, BadInputIsRefusedWithTheFieldNamedAndNothingStored) {
  Manager manager = NewManager("jane@example.com");
  Manager inactive = NewManager("gone@example.com");
  kam::v1::UpdateManagerRequest deactivate;
  deactivate.mutable_manager()->set_id(inactive.id());
  deactivate.mutable_update_mask()->add_paths("active");
  ASSERT_TRUE(book_->UpdateManager(deactivate).ok());
  Account parent = NewAccount("Parent", 100);
  Account child = NewAccount("Child", 100);
  kam::v1::UpdateAccountRequest link;
  link.mutable_account()->set_id(child.id());
  link.mutable_account()->set_parent_account_id(parent.id());
  link.mutable_update_mask()->add_paths("parent_account_id");
  ASSERT_TRUE(book_->UpdateAccount(link).ok());
  const std::string before = StoredState();
  using Code = absl::StatusCode;

  auto request = AccountRequest("", 100);
  ExpectRefused(book_->CreateAccount(request).status(), Code::kInvalidArgument, "account.name",
                before);
  request = AccountRequest(std::string(201, 'a'), 100);
  request.set_request_id("long-name");
  ExpectRefused(book_->CreateAccount(request).status(), Code::kInvalidArgument, "account.name",
                before);
  request = AccountRequest("Acme", -5);
  ExpectRefused(book_->CreateAccount(request).status(), Code::kInvalidArgument,
                "account.annual_revenue.amount_minor", before);
  request = AccountRequest("Acme", 5);
  request.mutable_account()->mutable_annual_revenue()->set_currency("EURO");
  ExpectRefused(book_->CreateAccount(request).status(), Code::kInvalidArgument,
                "account.annual_revenue.currency", before);
  request = AccountRequest("Acme", 5);
  request.mutable_account()->set_industry(static_cast<kam::v1::Industry>(77));
  ExpectRefused(book_->CreateAccount(request).status(), Code::kInvalidArgument, "account.industry",
                before);
  request = AccountRequest("Acme", 5, "mgr_nobody");
  ExpectRefused(book_->CreateAccount(request).status(), Code::kNotFound, "account.owner_manager_id",
                before);
  request = AccountRequest("Acme", 5, inactive.id());
  ExpectRefused(book_->CreateAccount(request).status(), Code::kFailedPrecondition,
                "account.owner_manager_id", before);
  request = AccountRequest("Acme", 5);
  request.mutable_account()->set_parent_account_id("acc_missing");
  ExpectRefused(book_->CreateAccount(request).status(), Code::kNotFound,
                "account.parent_account_id", before);

  kam::v1::UpdateAccountRequest self;
  self.mutable_account()->set_id(parent.id());
  self.mutable_account()->set_parent_account_id(parent.id());
  self.mutable_update_mask()->add_paths("parent_account_id");
  ExpectRefused(book_->UpdateAccount(self).status(), Code::kInvalidArgument,
                "account.parent_account_id", before);
  kam::v1::UpdateAccountRequest cycle;
  cycle.mutable_account()->set_id(parent.id());
  cycle.mutable_account()->set_parent_account_id(child.id());
  cycle.mutable_update_mask()->add_paths("parent_account_id");
  ExpectRefused(book_->UpdateAccount(cycle).status(), Code::kFailedPrecondition,
                "account.parent_account_id", before);

  kam::v1::UpdateAccountRequest stale;
  stale.mutable_account()->set_id(parent.id());
  stale.mutable_account()->set_name("Renamed");
  stale.mutable_account()->set_etag("999");
  stale.mutable_update_mask()->add_paths("name");
  ExpectRefused(book_->UpdateAccount(stale).status(), Code::kAborted, "etag", before);
  kam::v1::UpdateAccountRequest unknown_path;
  unknown_path.mutable_account()->set_id(parent.id());
  unknown_path.mutable_update_mask()->add_paths("revenue");
  ExpectRefused(book_->UpdateAccount(unknown_path).status(), Code::kInvalidArgument, "update_mask",
                before);
  kam::v1::UpdateAccountRequest owner_path;
  owner_path.mutable_account()->set_id(parent.id());
  owner_path.mutable_update_mask()->add_paths("owner_manager_id");
  ExpectRefused(book_->UpdateAccount(owner_path).status(), Code::kInvalidArgument, "update_mask",
                before);

  kam::v1::ListAccountsRequest forged;
  forged.set_page_token("bm90LWEtdG9rZW4tZnJvbS11cw");
  ExpectRefused(book_->ListAccounts(forged).status(), Code::kInvalidArgument, "page_token", before);
  kam::v1::ListAccountsRequest negative;
  negative.set_page_size(-1);
  ExpectRefused(book_->ListAccounts(negative).status(), Code::kInvalidArgument, "page_size",
                before);

  kam::v1::AssignAccountRequest to_inactive;
  to_inactive.set_account_id(parent.id());
  to_inactive.set_manager_id(inactive.id());
  ExpectRefused(book_->AssignAccount(to_inactive).status(), Code::kFailedPrecondition, "manager_id",
                before);
  kam::v1::AssignAccountRequest missing_account;
  missing_account.set_account_id("acc_missing");
  missing_account.set_manager_id(manager.id());
  ExpectRefused(book_->AssignAccount(missing_account).status(), Code::kNotFound, "account_id",
                before);
  kam::v1::ReassignAccountRequest no_owner;
  no_owner.set_account_id(parent.id());
  no_owner.set_new_manager_id(manager.id());
  no_owner.set_reason("territory change");
  ExpectRefused(book_->ReassignAccount(no_owner).status(), Code::kFailedPrecondition, "account_id",
                before);
  no_owner.clear_reason();
  ExpectRefused(book_->ReassignAccount(no_owner).status(), Code::kInvalidArgument, "reason",
                before);

  kam::v1::CreateManagerRequest duplicate_email;
  duplicate_email.mutable_manager()->set_name("Other Jane");
  duplicate_email.mutable_manager()->set_email("jane@example.com");
  ExpectRefused(book_->CreateManager(duplicate_email).status(), Code::kAlreadyExists,
                "manager.email", before);
  kam::v1::GetAccountRequest get_missing;
  get_missing.set_id("acc_missing");
  ExpectRefused(book_->GetAccount(get_missing).status(), Code::kNotFound, "id", before);
}

TEST_F(AccountsBookTest, OverloadedManagerRecoversWhenAnAccountIsReassigned) {
  Manager busy = NewManager("busy@example.com", 3);
  Manager spare = NewManager("spare@example.com", 10);
  std::vector<Account> accounts;
  for (int i = 0; i < 4; ++i)
    accounts.push_back(NewAccount("Plain " + std::to_string(i), 1000, busy.id()));

  kam::v1::GetManagerLoadRequest get_load;
  get_load.set_manager_id(busy.id());
  auto load = book_->GetManagerLoad(get_load);
  ASSERT_TRUE(load.ok());
  EXPECT_EQ(load->account_count(), 4);
  EXPECT_DOUBLE_EQ(load->capacity(), 3);
  EXPECT_GT(load->utilisation(), 1.0) << "four plain accounts overload a capacity of 3";

  kam::v1::ListManagerLoadsRequest overloaded;
  overloaded.set_overloaded_only(true);
  auto loads = book_->ListManagerLoads(overloaded);
  ASSERT_TRUE(loads.ok());
  ASSERT_EQ(loads->loads_size(), 1);
  EXPECT_EQ(loads->loads(0).manager_id(), busy.id());

  kam::v1::ReassignAccountRequest move;
  move.set_account_id(accounts[0].id());
  move.set_new_manager_id(spare.id());
  move.set_reason("rebalancing portfolio");
  auto moved = book_->ReassignAccount(move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->owner_manager_id(), spare.id());
  load = book_->GetManagerLoad(get_load);
  EXPECT_LE(load->utilisation(), 1.0);
  EXPECT_EQ(load->account_count(), 3);

  // The move is on both topics: keyed by account, and copied to each manager's key, followed by
  // fresh load snapshots for both managers.
  auto events = Events();
  int assigned_on_managers = 0;
  std::map<std::string, kam::v1::ManagerLoad> last_load;
  for (const auto& [topic, envelope] : events) {
    if (envelope.has_account_assigned() &&
        envelope.account_assigned().reason() == "rebalancing portfolio") {
      EXPECT_EQ(envelope.account_assigned().old_manager_id(), busy.id());
      EXPECT_EQ(envelope.account_assigned().new_manager_id(), spare.id());
      EXPECT_GT(envelope.account_assigned().weight(), 0);
      if (topic == kafka_topics::kManagers) ++assigned_on_managers;
    }
    if (envelope.has_manager_load_changed()) {
      EXPECT_EQ(topic, kafka_topics::kManagers);
      last_load[envelope.subject()] = envelope.manager_load_changed().load();
    }
  }
  EXPECT_EQ(assigned_on_managers, 2);
  EXPECT_EQ(last_load[busy.id()].account_count(), 3);
  EXPECT_DOUBLE_EQ(last_load[busy.id()].load(), load->load());
  EXPECT_EQ(last_load[spare.id()].account_count(), 1);
}

TEST_F(AccountsBookTest, TiersFollowRevenueAndOtherAccountsChangesArePublished) {
  Account big = NewAccount("Big", 700);
  Account mid = NewAccount("Mid", 200);
  Account small = NewAccount("Small", 100);
  kam::v1::GetAccountRequest get;
  get.set_id(small.id());
  EXPECT_EQ(book_->GetAccount(get)->tier(), kam::v1::TIER_C);
  get.set_id(mid.id());
  EXPECT_EQ(book_->GetAccount(get)->tier(), kam::v1::TIER_B);
  EXPECT_NEAR(book_->GetAccount(get)->revenue_share(), 0.2, 1e-9);

  // "Small" grows past everyone: Big drops from A (now 700 of 1900 is under 70%, still first...)
  kam::v1::UpdateAccountRequest grow;
  grow.mutable_account()->set_id(small.id());
  grow.mutable_account()->mutable_annual_revenue()->set_amount_minor(5000);
  grow.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
  grow.mutable_update_mask()->add_paths("annual_revenue");
  auto grown = book_->UpdateAccount(grow);
  ASSERT_TRUE(grown.ok());
  EXPECT_EQ(grown->tier(), kam::v1::TIER_A);
  get.set_id(mid.id());
  EXPECT_EQ(book_->GetAccount(get)->tier(), kam::v1::TIER_C);

  bool saw_derived = false;
  for (const auto& [topic, envelope] : Events()) {
    if (envelope.has_account_updated() && envelope.subject() == mid.id()) {
      const auto& fields = envelope.account_updated().changed_fields();
      saw_derived = std::find(fields.begin(), fields.end(), "tier") != fields.end() &&
                    envelope.account_updated().account().tier() == kam::v1::TIER_C;
    }
  }
  EXPECT_TRUE(saw_derived) << "a tier change caused by another account must be published";
}

TEST_F(AccountsBookTest, UpdateWithEtagAndFieldMask) {
  Account account = NewAccount("Acme", 100);
  kam::v1::UpdateAccountRequest update;
  update.mutable_account()->set_id(account.id());
  update.mutable_account()->set_etag(account.etag());
  update.mutable_account()->set_name("Acme Group");
  update.mutable_account()->set_key_account(true);
  update.mutable_update_mask()->add_paths("name");
  auto updated = book_->UpdateAccount(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->name(), "Acme Group");
  EXPECT_FALSE(updated->key_account()) << "fields outside the mask stay as they were";
  EXPECT_NE(updated->etag(), account.etag());
  // The old etag is stale now.
  EXPECT_EQ(book_->UpdateAccount(update).status().code(), absl::StatusCode::kAborted);
}

TEST_F(AccountsBookTest, ClosedAccountsLeaveLoadAndListsButStayReadable) {
  Manager manager = NewManager("jane@example.com");
  Account account = NewAccount("Acme", 100, manager.id());
  NewAccount("Other", 100, manager.id());
  kam::v1::CloseAccountRequest close;
  close.set_id(account.id());
  close.set_reason("customer churned");
  auto closed = book_->CloseAccount(close);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->lifecycle_phase(), kam::v1::LIFECYCLE_PHASE_CHURNED);
  EXPECT_TRUE(closed->has_close_time());
  EXPECT_EQ(closed->weight(), 0);
  EXPECT_EQ(book_->CloseAccount(close).status().code(), absl::StatusCode::kFailedPrecondition);

  kam::v1::GetManagerLoadRequest get_load;
  get_load.set_manager_id(manager.id());
  EXPECT_EQ(book_->GetManagerLoad(get_load)->account_count(), 1);
  kam::v1::ListAccountsRequest list;
  EXPECT_EQ(book_->ListAccounts(list)->accounts_size(), 1);
  list.set_include_closed(true);
  EXPECT_EQ(book_->ListAccounts(list)->accounts_size(), 2);
  kam::v1::UpdateAccountRequest update;
  update.mutable_account()->set_id(account.id());
  update.mutable_account()->set_name("Zombie");
  update.mutable_update_mask()->add_paths("name");
  EXPECT_EQ(book_->UpdateAccount(update).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AccountsBookTest, AManagerWhoStillOwnsAccountsCannotBeDeactivated) {
  Manager jane = NewManager("jane@example.com", 1);
  Manager max = NewManager("max@example.com", 10);
  Account acme = NewAccount("Acme", 100, jane.id());
  Account beta = NewAccount("Beta", 100, jane.id());
  kam::v1::UpdateManagerRequest deactivate;
  deactivate.mutable_manager()->set_id(jane.id());
  deactivate.mutable_manager()->set_active(false);
  deactivate.mutable_update_mask()->add_paths("active");
  auto refused = book_->UpdateManager(deactivate);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("still owns 2 open accounts"), std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find(acme.id()), std::string::npos);
  kam::v1::GetManagerRequest get;
  get.set_id(jane.id());
  EXPECT_TRUE(book_->GetManager(get)->active()) << "a refused update changes nothing";

  // Once her accounts are with Max, she can be deactivated.
  for (const auto& account : {acme, beta}) {
    kam::v1::ReassignAccountRequest move;
    move.set_account_id(account.id());
    move.set_new_manager_id(max.id());
    move.set_reason("Jane leaves the team");
    ASSERT_TRUE(book_->ReassignAccount(move).ok());
  }
  auto deactivated = book_->UpdateManager(deactivate);
  ASSERT_TRUE(deactivated.ok()) << deactivated.status();
  EXPECT_FALSE(deactivated->active());
  kam::v1::SuggestReassignmentsRequest suggest;
  EXPECT_TRUE(book_->SuggestReassignments(suggest).ok());
  suggest.set_manager_id("mgr_nobody");
  EXPECT_EQ(book_->SuggestReassignments(suggest).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AccountsBookTest, ListByParentGivesAGroupsDirectSubsidiaries) {
  Account group = NewAccount("Car Group", 1000);
  auto subsidiary = AccountRequest("Truck Brand JP", 300, "");
  subsidiary.mutable_account()->set_parent_account_id(group.id());
  auto truck = book_->CreateAccount(subsidiary);
  ASSERT_TRUE(truck.ok()) << truck.status();
  auto plant = AccountRequest("Plant BR", 100, "");
  plant.mutable_account()->set_parent_account_id(truck->id());
  ASSERT_TRUE(book_->CreateAccount(plant).ok());
  NewAccount("Unrelated", 50);

  kam::v1::ListAccountsRequest list;
  list.set_parent_account_id(group.id());
  auto page = book_->ListAccounts(list);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->accounts_size(), 1) << "direct subsidiaries only";
  EXPECT_EQ(page->accounts(0).id(), truck->id());

  list.set_parent_account_id("acc_nobody");
  auto missing = book_->ListAccounts(list);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("parent_account_id"), std::string::npos);
}

TEST_F(AccountsBookTest, ListFiltersAndPagesWithStableTokens) {
  Manager jane = NewManager("jane@example.com");
  for (int i = 0; i < 7; ++i) NewAccount("Jane " + std::to_string(i), 100, jane.id());
  for (int i = 0; i < 3; ++i) NewAccount("Free " + std::to_string(i), 100);
  kam::v1::ListAccountsRequest list;
  list.set_manager_id(jane.id());
  list.set_page_size(3);
  std::set<std::string> seen;
  int pages = 0;
  while (true) {
    auto page = book_->ListAccounts(list);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->total_size(), pages == 0 ? 7 : 8);
    for (const auto& account : page->accounts()) {
      EXPECT_EQ(account.owner_manager_id(), jane.id());
      EXPECT_TRUE(seen.insert(account.id()).second) << "no account twice across pages";
    }
    ++pages;
    if (page->next_page_token().empty()) break;
    if (pages == 1) NewAccount("Jane late", 100, jane.id());  // inserts do not shift pages
    list.set_page_token(page->next_page_token());
  }
  EXPECT_GE(seen.size(), 7u);
  EXPECT_GE(pages, 3);

  // A token is only good for the filters it was issued with.
  kam::v1::ListAccountsRequest first;
  first.set_manager_id(jane.id());
  first.set_page_size(2);
  auto page = book_->ListAccounts(first);
  kam::v1::ListAccountsRequest other;
  other.set_page_token(page->next_page_token());
  EXPECT_EQ(book_->ListAccounts(other).status().code(), absl::StatusCode::kInvalidArgument);

  kam::v1::ListAccountsRequest key_only;
  key_only.set_key_account(true);
  EXPECT_EQ(book_->ListAccounts(key_only)->accounts_size(), 0);
}

TEST_F(AccountsBookTest, ImportAppliesAllRowsOrNone) {
  Manager jane = NewManager("jane@example.com");
  kam::v1::ImportAccountsRequest import;
  for (int i = 0; i < 5; ++i)
    *import.add_rows() = AccountRequest("Row " + std::to_string(i), 100, jane.id());
  import.mutable_rows(3)->mutable_account()->mutable_annual_revenue()->set_currency("???");
  const std::string before = StoredState();
  auto result = book_->ImportAccounts(import);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->applied());
  EXPECT_EQ(result->created(), 0);
  EXPECT_EQ(result->results(3).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(result->results(3).error().find("annual_revenue.currency"), std::string::npos);
  EXPECT_EQ(result->results(0).code(), 0);
  EXPECT_EQ(StoredState(), before) << "one bad row: nothing applied";

  import.mutable_rows(3)->mutable_account()->mutable_annual_revenue()->set_currency("EUR");
  import.set_validate_only(true);
  EXPECT_FALSE(book_->ImportAccounts(import)->applied());
  EXPECT_EQ(StoredState(), before);
  import.set_validate_only(false);
  result = book_->ImportAccounts(import);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->applied());
  EXPECT_EQ(result->created(), 5);
  EXPECT_EQ(book_->account_count(), 5u);
  // The same import again is idempotent row by row.
  auto again = book_->ImportAccounts(import);
  EXPECT_TRUE(again->applied());
  EXPECT_EQ(again->created(), 0);
  EXPECT_EQ(again->results(2).account_id(), result->results(2).account_id());
  EXPECT_EQ(book_->account_count(), 5u);
}

TEST_F(AccountsBookTest, RestartRestoresEverythingFromTheStore) {
  Manager jane = NewManager("jane@example.com", 3);
  Account account = NewAccount("Acme", 100, jane.id());
  NewAccount("Beta", 300, jane.id());
  kam::v1::GetManagerLoadRequest get_load;
  get_load.set_manager_id(jane.id());
  double load_before = book_->GetManagerLoad(get_load)->load();
  Open();
  kam::v1::GetAccountRequest get;
  get.set_id(account.id());
  auto restored = book_->GetAccount(get);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->name(), "Acme");
  EXPECT_NEAR(restored->revenue_share(), 0.25, 1e-9);
  EXPECT_DOUBLE_EQ(book_->GetManagerLoad(get_load)->load(), load_before);
  EXPECT_EQ(book_->CreateAccount(AccountRequest("Acme", 100, jane.id()))->id(), account.id())
      << "idempotency survives a restart";
}

}  // namespace
}  // namespace kam::accounts
