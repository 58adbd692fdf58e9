#include "services/accounts/accounts_book.h"

#include <algorithm>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/event_envelope.h"
#include "common/fingerprint.h"
#include "common/ids.h"
#include "common/kafka_topics.h"
#include "common/time_util.h"
#include "kam/internal/v1/storage.pb.h"
#include "services/accounts/derived.h"
#include "services/accounts/validation.h"

namespace kam::accounts {
namespace {

using kam::v1::Account;
using kam::v1::Manager;

constexpr char kManagersCf[] = "managers";
constexpr char kAccountsCf[] = "accounts";
constexpr char kRequestsCf[] = "requests";
constexpr char kSource[] = "kam-accounts";

bool IsOpen(const Account& account) {
  return account.lifecycle_phase() != kam::v1::LIFECYCLE_PHASE_CHURNED;
}

std::string NewId(const char* prefix) {
  std::string uuid = absl::StrReplaceAll(NewUuid(), {{"-", ""}});
  return absl::StrCat(prefix, uuid.substr(0, 20));
}

std::string NextEtag(const std::string& etag) {
  return std::to_string(etag.empty() ? 1 : std::stoll(etag) + 1);
}

absl::Status CheckEtag(const std::string& given, const std::string& stored,
                       const std::string& what) {
  if (!given.empty() && given != stored) {
    return absl::AbortedError(absl::StrCat("etag: ", what, " changed since it was read (etag ",
                                           stored, ", request has ", given, "); read it again"));
  }
  return absl::OkStatus();
}

absl::Status RequireId(const std::string& id, const std::string& field) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  return absl::OkStatus();
}

}  // namespace

// What one request changes, staged over the current state until Commit writes it in one batch.
class AccountsBook::Mutation {
 public:
  explicit Mutation(AccountsBook* book) : book_(book) {}

  const Account* FindAccount(const std::string& id) const {
    auto staged = accounts_.find(id);
    if (staged != accounts_.end()) return &staged->second;
    auto it = book_->accounts_.find(id);
    return it == book_->accounts_.end() ? nullptr : &it->second;
  }
  const Manager* FindManager(const std::string& id) const {
    auto staged = managers_.find(id);
    if (staged != managers_.end()) return &staged->second;
    auto it = book_->managers_.find(id);
    return it == book_->managers_.end() ? nullptr : &it->second;
  }
  void Put(Account account) { accounts_[account.id()] = std::move(account); }
  void Put(Manager manager) { managers_[manager.id()] = std::move(manager); }
  const Account& StagedAccount(const std::string& id) const { return accounts_.at(id); }
  const Manager& StagedManager(const std::string& id) const { return managers_.at(id); }

  void RememberRequest(const std::string& kind, const std::string& request_id,
                       const std::string& fingerprint, const std::string& resource_id) {
    if (request_id.empty()) return;
    requests_[absl::StrCat(kind, "/", request_id)] = {fingerprint, resource_id};
  }

  // The events a request causes directly; built at commit time, from the final staged state.
  struct Primary {
    enum Kind {
      kAccountCreated,
      kAccountUpdated,
      kAccountClosed,
      kAccountAssigned,
      kManagerCreated,
      kManagerUpdated
    } kind;
    std::string id;
    std::vector<std::string> changed_fields;
    std::string reason;
    std::string old_owner;
    std::string new_owner;
  };
  void Emit(Primary primary) { primaries_.push_back(std::move(primary)); }

  absl::Status Commit();

 private:
  OutboundEvent Envelope(const char* topic, const std::string& key, const std::string& subject,
                         kam::v1::EventEnvelope envelope) const;
  kam::v1::ManagerLoad EffectiveLoad(const std::string& manager_id) const;

  AccountsBook* book_;
  std::map<std::string, Account> accounts_;
  std::map<std::string, Manager> managers_;
  std::map<std::string, std::pair<std::string, std::string>> requests_;  // fingerprint, id
  std::vector<Primary> primaries_;
  double new_total_ = 0;
};

OutboundEvent AccountsBook::Mutation::Envelope(const char* topic, const std::string& key,
                                               const std::string& subject,
                                               kam::v1::EventEnvelope envelope) const {
  return EnvelopeEvent(topic, key, kSource, std::move(envelope), subject);
}

kam::v1::ManagerLoad AccountsBook::Mutation::EffectiveLoad(const std::string& manager_id) const {
  std::set<std::string> ids;
  auto owned = book_->owned_.find(manager_id);
  if (owned != book_->owned_.end()) ids = owned->second;
  for (const auto& [id, account] : accounts_) {
    if (account.owner_manager_id() == manager_id && IsOpen(account)) {
      ids.insert(id);
    } else {
      ids.erase(id);
    }
  }
  std::vector<const Account*> accounts;
  for (const auto& id : ids) accounts.push_back(FindAccount(id));
  return book_->LoadOf(*FindManager(manager_id), accounts);
}

absl::Status AccountsBook::Mutation::Commit() {
  // 1. Tiers over every open account, staged changes included.
  std::vector<RevenueEntry> entries;
  entries.reserve(book_->accounts_.size() + accounts_.size());
  auto add_entry = [&](const Account& account) {
    if (!IsOpen(account)) return;
    std::optional<double> revenue = NormalisedRevenue(account.annual_revenue(), book_->policy_);
    entries.push_back({account.id(), revenue.value_or(0)});
  };
  for (const auto& [id, account] : book_->accounts_) {
    if (!accounts_.count(id)) add_entry(account);
  }
  for (const auto& [id, account] : accounts_) add_entry(account);
  new_total_ = 0;
  for (const auto& entry : entries) new_total_ += entry.revenue;
  std::map<std::string, kam::v1::Tier> tiers = ComputeTiers(entries, book_->policy_.tiers);

  // 2. Weights follow tiers; accounts whose tier or weight moved are staged as derived changes.
  std::set<std::string> derived_only;
  for (const auto& [id, tier] : tiers) {
    const Account* current = FindAccount(id);
    double weight = AccountWeight(*current, tier, book_->policy_.weights);
    if (current->tier() == tier && current->weight() == weight &&
        current->international() == IsInternational(*current)) {
      continue;
    }
    Account updated = *current;
    updated.set_tier(tier);
    updated.set_weight(weight);
    updated.set_international(IsInternational(updated));
    if (!accounts_.count(id)) derived_only.insert(id);
    Put(std::move(updated));
  }
  for (auto& [id, account] : accounts_) {
    if (!IsOpen(account)) account.set_weight(0);
    std::optional<double> revenue = NormalisedRevenue(account.annual_revenue(), book_->policy_);
    account.set_revenue_share(IsOpen(account) && new_total_ > 0 ? revenue.value_or(0) / new_total_
                                                                : 0);
  }

  // 3. Managers whose load moved: owners before and after of every changed account.
  std::set<std::string> affected;
  for (const auto& [id, account] : accounts_) {
    auto before = book_->accounts_.find(id);
    if (!account.owner_manager_id().empty()) affected.insert(account.owner_manager_id());
    if (before != book_->accounts_.end() && !before->second.owner_manager_id().empty()) {
      affected.insert(before->second.owner_manager_id());
    }
  }
  for (const auto& [id, manager] : managers_) affected.insert(id);

  // 4. One batch: records, idempotency entries, events.
  rocksdb::WriteBatch batch;
  Store* store = book_->store_;
  for (const auto& [id, account] : accounts_) {
    KAM_RETURN_IF_ERROR(FromRocks(
        batch.Put(store->Cf(kAccountsCf), id, account.SerializeAsString()), "put account"));
  }
  for (const auto& [id, manager] : managers_) {
    KAM_RETURN_IF_ERROR(FromRocks(
        batch.Put(store->Cf(kManagersCf), id, manager.SerializeAsString()), "put manager"));
  }
  for (const auto& [key, request] : requests_) {
    KAM_RETURN_IF_ERROR(
        PutIdempotent(store, &batch, kRequestsCf, key, request.first, request.second));
  }

  std::vector<OutboundEvent> events;
  for (const auto& primary : primaries_) {
    kam::v1::EventEnvelope envelope;
    switch (primary.kind) {
      case Primary::kAccountCreated:
        *envelope.mutable_account_created()->mutable_account() = StagedAccount(primary.id);
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        break;
      case Primary::kAccountUpdated: {
        auto* updated = envelope.mutable_account_updated();
        *updated->mutable_account() = StagedAccount(primary.id);
        for (const auto& field : primary.changed_fields) updated->add_changed_fields(field);
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        break;
      }
      case Primary::kAccountClosed:
        *envelope.mutable_account_closed()->mutable_account() = StagedAccount(primary.id);
        envelope.mutable_account_closed()->set_reason(primary.reason);
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        break;
      case Primary::kAccountAssigned: {
        auto* assigned = envelope.mutable_account_assigned();
        *assigned->mutable_account() = StagedAccount(primary.id);
        assigned->set_old_manager_id(primary.old_owner);
        assigned->set_new_manager_id(primary.new_owner);
        assigned->set_reason(primary.reason);
        assigned->set_weight(StagedAccount(primary.id).weight());
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        // Copies keyed by manager, so a consumer that owns manager partitions sees both sides.
        for (const std::string& manager : {primary.old_owner, primary.new_owner}) {
          if (!manager.empty()) {
            events.push_back(Envelope(kafka_topics::kManagers, manager, primary.id, envelope));
          }
        }
        break;
      }
      case Primary::kManagerCreated:
        *envelope.mutable_manager_created()->mutable_manager() =
            book_->WithCapacity(StagedManager(primary.id));
        events.push_back(Envelope(kafka_topics::kManagers, primary.id, primary.id, envelope));
        break;
      case Primary::kManagerUpdated:
        *envelope.mutable_manager_updated()->mutable_manager() =
            book_->WithCapacity(StagedManager(primary.id));
        events.push_back(Envelope(kafka_topics::kManagers, primary.id, primary.id, envelope));
        break;
    }
  }
  for (const auto& id : derived_only) {
    kam::v1::EventEnvelope envelope;
    auto* updated = envelope.mutable_account_updated();
    *updated->mutable_account() = StagedAccount(id);
    updated->add_changed_fields("tier");
    updated->add_changed_fields("weight");
    events.push_back(Envelope(kafka_topics::kAccounts, id, id, envelope));
  }
  for (const auto& manager_id : affected) {
    if (FindManager(manager_id) == nullptr) continue;
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_manager_load_changed()->mutable_load() = EffectiveLoad(manager_id);
    events.push_back(Envelope(kafka_topics::kManagers, manager_id, manager_id, envelope));
  }

  KAM_RETURN_IF_ERROR(book_->outbox_->Commit(&batch, std::move(events)));

  // 5. Durable: now memory follows.
  for (auto& [id, account] : accounts_) {
    auto before = book_->accounts_.find(id);
    if (before != book_->accounts_.end() && !before->second.owner_manager_id().empty()) {
      book_->owned_[before->second.owner_manager_id()].erase(id);
    }
    if (!account.owner_manager_id().empty() && IsOpen(account)) {
      book_->owned_[account.owner_manager_id()].insert(id);
    }
    book_->accounts_[id] = std::move(account);
  }
  for (auto& [id, manager] : managers_) book_->managers_[id] = std::move(manager);
  book_->total_revenue_ = new_total_;
  return absl::OkStatus();
}

std::vector<std::string> AccountsBook::ColumnFamilies() {
  return {kManagersCf, kAccountsCf, kRequestsCf};
}

absl::StatusOr<std::unique_ptr<AccountsBook>> AccountsBook::Open(Store* store, Outbox* outbox,
                                                                 AccountsPolicy policy) {
  KAM_RETURN_IF_ERROR(ValidatePolicy(policy));
  KAM_ASSIGN_OR_RETURN(PageTokens tokens, PageTokens::ForStore(store));
  std::unique_ptr<AccountsBook> book(
      new AccountsBook(store, outbox, std::move(policy), std::move(tokens)));
  KAM_RETURN_IF_ERROR(book->Restore());
  return book;
}

absl::Status AccountsBook::Restore() {
  auto managers = store_->NewIterator(kManagersCf);
  for (managers->SeekToFirst(); managers->Valid(); managers->Next()) {
    Manager manager;
    if (!manager.ParseFromArray(managers->value().data(),
                                static_cast<int>(managers->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("manager ", managers->key().ToString(), " does not parse"));
    }
    managers_[manager.id()] = std::move(manager);
  }
  KAM_RETURN_IF_ERROR(FromRocks(managers->status(), "scan managers"));
  auto accounts = store_->NewIterator(kAccountsCf);
  for (accounts->SeekToFirst(); accounts->Valid(); accounts->Next()) {
    Account account;
    if (!account.ParseFromArray(accounts->value().data(),
                                static_cast<int>(accounts->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("account ", accounts->key().ToString(), " does not parse"));
    }
    if (IsOpen(account)) {
      if (!account.owner_manager_id().empty())
        owned_[account.owner_manager_id()].insert(account.id());
      total_revenue_ += NormalisedRevenue(account.annual_revenue(), policy_).value_or(0);
    }
    accounts_[account.id()] = std::move(account);
  }
  return FromRocks(accounts->status(), "scan accounts");
}

absl::StatusOr<std::optional<std::string>> AccountsBook::LookupRequest(
    const std::string& kind, const std::string& request_id, const std::string& fingerprint) const {
  if (request_id.empty()) return std::optional<std::string>();
  return LookupIdempotent(*store_, kRequestsCf, absl::StrCat(kind, "/", request_id), fingerprint,
                          absl::StrCat("request_id \"", request_id, "\""));
}

Manager AccountsBook::WithCapacity(Manager manager) const {
  manager.set_effective_capacity(EffectiveCapacity(manager, policy_));
  return manager;
}

Account AccountsBook::WithShare(Account account) const {
  std::optional<double> revenue = NormalisedRevenue(account.annual_revenue(), policy_);
  account.set_revenue_share(
      IsOpen(account) && total_revenue_ > 0 ? revenue.value_or(0) / total_revenue_ : 0);
  return account;
}

std::vector<const Account*> AccountsBook::OwnedOpen(const std::string& manager_id) const {
  std::vector<const Account*> result;
  auto owned = owned_.find(manager_id);
  if (owned == owned_.end()) return result;
  for (const auto& id : owned->second) result.push_back(&accounts_.at(id));
  return result;
}

kam::v1::ManagerLoad AccountsBook::LoadOf(const Manager& manager,
                                          const std::vector<const Account*>& owned) const {
  kam::v1::ManagerLoad load;
  load.set_manager_id(manager.id());
  load.set_manager_name(manager.name());
  double total = 0;
  for (const Account* account : owned) {
    auto* entry = load.add_accounts();
    entry->set_account_id(account->id());
    entry->set_account_name(account->name());
    entry->set_tier(account->tier());
    entry->set_weight(account->weight());
    total += account->weight();
  }
  std::sort(load.mutable_accounts()->begin(), load.mutable_accounts()->end(),
            [](const auto& a, const auto& b) {
              return a.weight() != b.weight() ? a.weight() > b.weight()
                                              : a.account_id() < b.account_id();
            });
  double capacity = EffectiveCapacity(manager, policy_);
  load.set_load(total);
  load.set_capacity(capacity);
  load.set_utilisation(total / capacity);
  load.set_account_count(static_cast<int32_t>(owned.size()));
  return load;
}

// ---- managers ----

absl::StatusOr<Manager> AccountsBook::CreateManager(const kam::v1::CreateManagerRequest& request) {
  KAM_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  if (!request.has_manager()) return absl::InvalidArgumentError("manager: required");
  KAM_RETURN_IF_ERROR(ValidateManagerFields(request.manager(), "manager"));
  kam::v1::CreateManagerRequest body = request;
  body.clear_request_id();
  std::string fingerprint = Fingerprint(body);

  std::unique_lock lock(mutex_);
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                       LookupRequest("CreateManager", request.request_id(), fingerprint));
  if (existing) return WithCapacity(managers_.at(*existing));
  for (const auto& [id, manager] : managers_) {
    if (manager.email() == request.manager().email()) {
      return absl::AlreadyExistsError(
          absl::StrCat("manager.email: \"", manager.email(), "\" already belongs to manager ", id));
    }
  }
  Manager manager;
  manager.set_id(NewId("mgr_"));
  manager.set_name(request.manager().name());
  manager.set_email(request.manager().email());
  manager.set_industry_focus(request.manager().industry_focus());
  manager.set_capacity(request.manager().capacity());
  manager.set_active(true);
  *manager.mutable_create_time() = NowTimestamp();
  *manager.mutable_update_time() = manager.create_time();
  manager.set_etag("1");

  Mutation mutation(this);
  mutation.Put(manager);
  mutation.RememberRequest("CreateManager", request.request_id(), fingerprint, manager.id());
  mutation.Emit({Mutation::Primary::kManagerCreated, manager.id()});
  KAM_RETURN_IF_ERROR(mutation.Commit());
  return WithCapacity(managers_.at(manager.id()));
}

absl::StatusOr<Manager> AccountsBook::GetManager(const kam::v1::GetManagerRequest& request) const {
  KAM_RETURN_IF_ERROR(RequireId(request.id(), "id"));
  std::shared_lock lock(mutex_);
  auto it = managers_.find(request.id());
  if (it == managers_.end()) {
    return absl::NotFoundError(absl::StrCat("id: no manager \"", request.id(), "\""));
  }
  return WithCapacity(it->second);
}

absl::StatusOr<kam::v1::ListManagersResponse> AccountsBook::ListManagers(
    const kam::v1::ListManagersRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  if (!kam::v1::Industry_IsValid(request.industry_focus())) {
    return absl::InvalidArgumentError("industry_focus: unknown value");
  }
  const std::string filter =
      absl::StrCat("managers|", request.industry_focus(), "|", request.active_only());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  std::shared_lock lock(mutex_);
  kam::v1::ListManagersResponse response;
  auto it = after.empty() ? managers_.begin() : managers_.upper_bound(after);
  for (; it != managers_.end(); ++it) {
    const Manager& manager = it->second;
    if (request.industry_focus() != 0 && manager.industry_focus() != request.industry_focus())
      continue;
    if (request.active_only() && !manager.active()) continue;
    if (response.managers_size() == page_size) {
      response.set_next_page_token(tokens_.Issue(filter, response.managers().rbegin()->id()));
      break;
    }
    *response.add_managers() = WithCapacity(manager);
  }
  return response;
}

absl::StatusOr<Manager> AccountsBook::UpdateManager(const kam::v1::UpdateManagerRequest& request) {
  if (!request.has_manager()) return absl::InvalidArgumentError("manager: required");
  KAM_RETURN_IF_ERROR(RequireId(request.manager().id(), "manager.id"));
  KAM_ASSIGN_OR_RETURN(std::vector<std::string> paths,
                       ResolveManagerMask(request.update_mask(), request.manager()));
  std::unique_lock lock(mutex_);
  auto it = managers_.find(request.manager().id());
  if (it == managers_.end()) {
    return absl::NotFoundError(
        absl::StrCat("manager.id: no manager \"", request.manager().id(), "\""));
  }
  KAM_RETURN_IF_ERROR(CheckEtag(request.manager().etag(), it->second.etag(), "manager"));
  Manager updated = it->second;
  ApplyManagerMask(paths, request.manager(), &updated);
  KAM_RETURN_IF_ERROR(ValidateManagerFields(updated, "manager"));
  if (updated.email() != it->second.email()) {
    for (const auto& [id, other] : managers_) {
      if (id != updated.id() && other.email() == updated.email()) {
        return absl::AlreadyExistsError(absl::StrCat("manager.email: \"", updated.email(),
                                                     "\" already belongs to manager ", id));
      }
    }
  }
  if (updated.SerializeAsString() == it->second.SerializeAsString()) return WithCapacity(updated);
  updated.set_etag(NextEtag(updated.etag()));
  *updated.mutable_update_time() = NowTimestamp();
  Mutation mutation(this);
  mutation.Put(updated);
  mutation.Emit({Mutation::Primary::kManagerUpdated, updated.id()});
  KAM_RETURN_IF_ERROR(mutation.Commit());
  return WithCapacity(managers_.at(updated.id()));
}

// ---- accounts ----

absl::Status AccountsBook::CheckOwner(const std::string& manager_id,
                                      const std::string& field) const {
  auto it = managers_.find(manager_id);
  if (it == managers_.end()) {
    return absl::NotFoundError(absl::StrCat(field, ": no manager \"", manager_id, "\""));
  }
  if (!it->second.active()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": manager \"", manager_id, "\" is inactive and cannot own accounts"));
  }
  return absl::OkStatus();
}

absl::Status AccountsBook::CheckParent(const Account& account, const std::string& field) const {
  const std::string& parent_id = account.parent_account_id();
  if (parent_id.empty()) return absl::OkStatus();
  if (parent_id == account.id()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": an account cannot be its own parent"));
  }
  auto parent = accounts_.find(parent_id);
  if (parent == accounts_.end()) {
    return absl::NotFoundError(absl::StrCat(field, ": no account \"", parent_id, "\""));
  }
  if (!IsOpen(parent->second)) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": parent account \"", parent_id, "\" is closed"));
  }
  // Walk up from the new parent: meeting the account itself means a cycle.
  std::set<std::string> seen;
  for (const Account* at = &parent->second; !at->parent_account_id().empty();) {
    if (at->parent_account_id() == account.id() || !seen.insert(at->id()).second) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": making \"", parent_id, "\" the parent of \"", account.id(),
                       "\" would create a cycle in the account hierarchy"));
    }
    auto next = accounts_.find(at->parent_account_id());
    if (next == accounts_.end()) break;
    at = &next->second;
  }
  return absl::OkStatus();
}

const Account* AccountsBook::FindAccount(const std::string& id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

absl::StatusOr<const Account*> AccountsBook::OpenAccountToChange(const std::string& id,
                                                                 const std::string& etag,
                                                                 const std::string& field) const {
  const Account* account = FindAccount(id);
  if (account == nullptr) {
    return absl::NotFoundError(absl::StrCat(field, ": no account \"", id, "\""));
  }
  KAM_RETURN_IF_ERROR(CheckEtag(etag, account->etag(), "account"));
  if (!IsOpen(*account)) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": account \"", id, "\" is closed and kept for history only"));
  }
  return account;
}

absl::StatusOr<Account> AccountsBook::ValidateNewAccount(const Account& input,
                                                         const std::string& prefix) const {
  KAM_RETURN_IF_ERROR(ValidateAccountFields(input, prefix, policy_));
  Account account = input;
  account.set_id(NewId("acc_"));
  if (account.lifecycle_phase() == 0)
    account.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_ESTABLISHED);
  if (account.complexity() == 0) account.set_complexity(kam::v1::COMPLEXITY_MEDIUM);
  account.clear_create_time();
  account.clear_update_time();
  account.clear_close_time();
  account.clear_tier();
  account.clear_weight();
  account.clear_revenue_share();
  account.set_international(IsInternational(account));
  KAM_RETURN_IF_ERROR(CheckParent(account, prefix + ".parent_account_id"));
  if (!account.owner_manager_id().empty()) {
    KAM_RETURN_IF_ERROR(CheckOwner(account.owner_manager_id(), prefix + ".owner_manager_id"));
  }
  *account.mutable_create_time() = NowTimestamp();
  *account.mutable_update_time() = account.create_time();
  account.set_etag("1");
  return account;
}

absl::StatusOr<Account> AccountsBook::CreateAccount(const kam::v1::CreateAccountRequest& request) {
  KAM_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  if (!request.has_account()) return absl::InvalidArgumentError("account: required");
  kam::v1::CreateAccountRequest body = request;
  body.clear_request_id();
  std::string fingerprint = Fingerprint(body);

  std::unique_lock lock(mutex_);
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                       LookupRequest("CreateAccount", request.request_id(), fingerprint));
  if (existing) return WithShare(accounts_.at(*existing));
  KAM_ASSIGN_OR_RETURN(Account account, ValidateNewAccount(request.account(), "account"));
  Mutation mutation(this);
  mutation.Put(account);
  mutation.RememberRequest("CreateAccount", request.request_id(), fingerprint, account.id());
  mutation.Emit({Mutation::Primary::kAccountCreated, account.id()});
  if (!account.owner_manager_id().empty()) {
    mutation.Emit({Mutation::Primary::kAccountAssigned,
                   account.id(),
                   {},
                   "created with owner",
                   "",
                   account.owner_manager_id()});
  }
  KAM_RETURN_IF_ERROR(mutation.Commit());
  return WithShare(accounts_.at(account.id()));
}

absl::StatusOr<Account> AccountsBook::GetAccount(const kam::v1::GetAccountRequest& request) const {
  KAM_RETURN_IF_ERROR(RequireId(request.id(), "id"));
  std::shared_lock lock(mutex_);
  auto it = accounts_.find(request.id());
  if (it == accounts_.end()) {
    return absl::NotFoundError(absl::StrCat("id: no account \"", request.id(), "\""));
  }
  return WithShare(it->second);
}

absl::StatusOr<kam::v1::ListAccountsResponse> AccountsBook::ListAccounts(
    const kam::v1::ListAccountsRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  if (!kam::v1::Tier_IsValid(request.tier()))
    return absl::InvalidArgumentError("tier: unknown value");
  if (!kam::v1::Industry_IsValid(request.industry())) {
    return absl::InvalidArgumentError("industry: unknown value");
  }
  if (!kam::v1::LifecyclePhase_IsValid(request.lifecycle_phase())) {
    return absl::InvalidArgumentError("lifecycle_phase: unknown value");
  }
  const std::string filter =
      absl::StrCat("accounts|", request.manager_id(), "|", request.tier(), "|", request.industry(),
                   "|", request.lifecycle_phase(), "|",
                   request.has_key_account() ? (request.key_account() ? 1 : 0) : 2, "|",
                   request.include_closed());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  std::shared_lock lock(mutex_);
  if (!request.manager_id().empty() && !managers_.count(request.manager_id())) {
    return absl::NotFoundError(
        absl::StrCat("manager_id: no manager \"", request.manager_id(), "\""));
  }
  bool closed_phase = request.lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED;
  auto matches = [&](const Account& account) {
    if (!IsOpen(account) && !request.include_closed() && !closed_phase) return false;
    if (!request.manager_id().empty() && account.owner_manager_id() != request.manager_id())
      return false;
    if (request.tier() != 0 && account.tier() != request.tier()) return false;
    if (request.industry() != 0 && account.industry() != request.industry()) return false;
    if (request.lifecycle_phase() != 0 && account.lifecycle_phase() != request.lifecycle_phase()) {
      return false;
    }
    if (request.has_key_account() && account.key_account() != request.key_account()) return false;
    return true;
  };
  kam::v1::ListAccountsResponse response;
  int total = 0;
  for (const auto& [id, account] : accounts_) {
    if (!matches(account)) continue;
    ++total;
    if (!after.empty() && id <= after) continue;
    if (response.accounts_size() < page_size) {
      *response.add_accounts() = WithShare(account);
    } else if (response.next_page_token().empty()) {
      response.set_next_page_token(tokens_.Issue(filter, response.accounts().rbegin()->id()));
    }
  }
  response.set_total_size(total);
  return response;
}

absl::StatusOr<Account> AccountsBook::UpdateAccount(const kam::v1::UpdateAccountRequest& request) {
  if (!request.has_account()) return absl::InvalidArgumentError("account: required");
  KAM_RETURN_IF_ERROR(RequireId(request.account().id(), "account.id"));
  for (const auto& path : request.update_mask().paths()) {
    if (path == "owner_manager_id") {
      return absl::InvalidArgumentError(
          "update_mask: owner_manager_id changes through AssignAccount or ReassignAccount");
    }
  }
  KAM_ASSIGN_OR_RETURN(std::vector<std::string> paths,
                       ResolveAccountMask(request.update_mask(), request.account()));
  std::unique_lock lock(mutex_);
  KAM_ASSIGN_OR_RETURN(
      const Account* current,
      OpenAccountToChange(request.account().id(), request.account().etag(), "account.id"));
  Account updated = *current;
  ApplyAccountMask(paths, request.account(), &updated);
  KAM_RETURN_IF_ERROR(ValidateAccountFields(updated, "account", policy_));
  KAM_RETURN_IF_ERROR(CheckParent(updated, "account.parent_account_id"));
  if (updated.SerializeAsString() == current->SerializeAsString()) return WithShare(updated);
  updated.set_etag(NextEtag(updated.etag()));
  *updated.mutable_update_time() = NowTimestamp();
  Mutation mutation(this);
  mutation.Put(updated);
  mutation.Emit({Mutation::Primary::kAccountUpdated, updated.id(), paths});
  KAM_RETURN_IF_ERROR(mutation.Commit());
  return WithShare(accounts_.at(updated.id()));
}

absl::StatusOr<Account> AccountsBook::CloseAccount(const kam::v1::CloseAccountRequest& request) {
  KAM_RETURN_IF_ERROR(RequireId(request.id(), "id"));
  KAM_RETURN_IF_ERROR(ValidateReason(request.reason(), "reason"));
  std::unique_lock lock(mutex_);
  KAM_ASSIGN_OR_RETURN(const Account* current,
                       OpenAccountToChange(request.id(), request.etag(), "id"));
  Account closed = *current;
  closed.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_CHURNED);
  *closed.mutable_close_time() = NowTimestamp();
  *closed.mutable_update_time() = closed.close_time();
  closed.set_weight(0);
  closed.set_etag(NextEtag(closed.etag()));
  Mutation mutation(this);
  mutation.Put(closed);
  mutation.Emit({Mutation::Primary::kAccountClosed, closed.id(), {}, request.reason()});
  KAM_RETURN_IF_ERROR(mutation.Commit());
  return WithShare(accounts_.at(closed.id()));
}

absl::StatusOr<Account> AccountsBook::AssignAccount(const kam::v1::AssignAccountRequest& request) {
  KAM_RETURN_IF_ERROR(RequireId(request.account_id(), "account_id"));
  KAM_RETURN_IF_ERROR(RequireId(request.manager_id(), "manager_id"));
  KAM_RETURN_IF_ERROR(ValidateReason(request.reason(), "reason"));
  std::unique_lock lock(mutex_);
  KAM_ASSIGN_OR_RETURN(const Account* current,
                       OpenAccountToChange(request.account_id(), request.etag(), "account_id"));
  if (!current->owner_manager_id().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("account_id: account \"", current->id(), "\" is already owned by \"",
                     current->owner_manager_id(), "\"; use ReassignAccount"));
  }
  KAM_RETURN_IF_ERROR(CheckOwner(request.manager_id(), "manager_id"));
  Account assigned = *current;
  assigned.set_owner_manager_id(request.manager_id());
  assigned.set_etag(NextEtag(assigned.etag()));
  *assigned.mutable_update_time() = NowTimestamp();
  Mutation mutation(this);
  mutation.Put(assigned);
  mutation.Emit({Mutation::Primary::kAccountAssigned,
                 assigned.id(),
                 {},
                 request.reason(),
                 "",
                 request.manager_id()});
  KAM_RETURN_IF_ERROR(mutation.Commit());
  return WithShare(accounts_.at(assigned.id()));
}

absl::StatusOr<Account> AccountsBook::ReassignAccount(
    const kam::v1::ReassignAccountRequest& request) {
  KAM_RETURN_IF_ERROR(RequireId(request.account_id(), "account_id"));
  KAM_RETURN_IF_ERROR(RequireId(request.new_manager_id(), "new_manager_id"));
  if (request.reason().empty()) {
    return absl::InvalidArgumentError("reason: required; say why the owner changes");
  }
  KAM_RETURN_IF_ERROR(ValidateReason(request.reason(), "reason"));
  std::unique_lock lock(mutex_);
  KAM_ASSIGN_OR_RETURN(const Account* current,
                       OpenAccountToChange(request.account_id(), request.etag(), "account_id"));
  const std::string old_owner = current->owner_manager_id();
  if (old_owner.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("account_id: account \"", current->id(),
                                                      "\" has no owner; use AssignAccount"));
  }
  if (old_owner == request.new_manager_id()) {
    return absl::FailedPreconditionError(
        absl::StrCat("new_manager_id: \"", old_owner, "\" already owns the account"));
  }
  KAM_RETURN_IF_ERROR(CheckOwner(request.new_manager_id(), "new_manager_id"));
  Account moved = *current;
  moved.set_owner_manager_id(request.new_manager_id());
  moved.set_etag(NextEtag(moved.etag()));
  *moved.mutable_update_time() = NowTimestamp();
  Mutation mutation(this);
  mutation.Put(moved);
  mutation.Emit({Mutation::Primary::kAccountAssigned,
                 moved.id(),
                 {},
                 request.reason(),
                 old_owner,
                 request.new_manager_id()});
  KAM_RETURN_IF_ERROR(mutation.Commit());
  return WithShare(accounts_.at(moved.id()));
}

// ---- load ----

absl::StatusOr<kam::v1::ManagerLoad> AccountsBook::GetManagerLoad(
    const kam::v1::GetManagerLoadRequest& request) const {
  KAM_RETURN_IF_ERROR(RequireId(request.manager_id(), "manager_id"));
  std::shared_lock lock(mutex_);
  auto it = managers_.find(request.manager_id());
  if (it == managers_.end()) {
    return absl::NotFoundError(
        absl::StrCat("manager_id: no manager \"", request.manager_id(), "\""));
  }
  return LoadOf(it->second, OwnedOpen(it->first));
}

absl::StatusOr<kam::v1::ListManagerLoadsResponse> AccountsBook::ListManagerLoads(
    const kam::v1::ListManagerLoadsRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  const std::string filter = absl::StrCat("loads|", request.overloaded_only());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  std::shared_lock lock(mutex_);
  std::vector<kam::v1::ManagerLoad> loads;
  for (const auto& [id, manager] : managers_) {
    kam::v1::ManagerLoad load = LoadOf(manager, OwnedOpen(id));
    if (request.overloaded_only() && load.utilisation() <= 1.0) continue;
    loads.push_back(std::move(load));
  }
  // Most loaded first; the position is (utilisation, id), so pages hold while loads move.
  auto before = [](double u1, const std::string& id1, double u2, const std::string& id2) {
    return u1 != u2 ? u1 > u2 : id1 < id2;
  };
  std::sort(loads.begin(), loads.end(), [&](const auto& a, const auto& b) {
    return before(a.utilisation(), a.manager_id(), b.utilisation(), b.manager_id());
  });
  double after_utilisation = 0;
  std::string after_id;
  if (!after.empty()) {
    size_t bar = after.find('|');
    after_utilisation = std::stod(after.substr(0, bar));
    after_id = after.substr(bar + 1);
  }
  kam::v1::ListManagerLoadsResponse response;
  for (auto& load : loads) {
    if (!after.empty() &&
        !before(after_utilisation, after_id, load.utilisation(), load.manager_id())) {
      continue;
    }
    if (response.loads_size() == page_size) {
      const auto& last = *response.loads().rbegin();
      char position[64];
      std::snprintf(position, sizeof(position), "%.17g|", last.utilisation());
      response.set_next_page_token(tokens_.Issue(filter, position + last.manager_id()));
      break;
    }
    *response.add_loads() = std::move(load);
  }
  return response;
}

// ---- import ----

absl::StatusOr<kam::v1::ImportAccountsResponse> AccountsBook::ImportAccounts(
    const kam::v1::ImportAccountsRequest& request) {
  if (request.rows_size() == 0)
    return absl::InvalidArgumentError("rows: at least one row required");
  if (request.rows_size() > kMaxImportRows) {
    return absl::InvalidArgumentError(absl::StrCat("rows: at most ", kMaxImportRows,
                                                   " rows per call, got ", request.rows_size()));
  }
  std::unique_lock lock(mutex_);
  kam::v1::ImportAccountsResponse response;
  Mutation mutation(this);
  std::set<std::string> request_ids;
  bool all_ok = true;
  int created = 0;
  for (int row = 0; row < request.rows_size(); ++row) {
    const auto& create = request.rows(row);
    auto* result = response.add_results();
    result->set_row(row);
    auto fail = [&](const absl::Status& status) {
      result->set_code(static_cast<int32_t>(status.code()));
      result->set_error(std::string(status.message()));
      all_ok = false;
    };
    absl::Status valid = ValidateRequestId(create.request_id());
    if (valid.ok() && !create.has_account())
      valid = absl::InvalidArgumentError("account: required");
    if (!valid.ok()) {
      fail(valid);
      continue;
    }
    if (!create.request_id().empty() && !request_ids.insert(create.request_id()).second) {
      fail(absl::InvalidArgumentError(
          absl::StrCat("request_id: \"", create.request_id(), "\" appears twice in this import")));
      continue;
    }
    kam::v1::CreateAccountRequest body = create;
    body.clear_request_id();
    std::string fingerprint = Fingerprint(body);
    absl::StatusOr<std::optional<std::string>> existing =
        LookupRequest("CreateAccount", create.request_id(), fingerprint);
    if (!existing.ok()) {
      fail(existing.status());
      continue;
    }
    if (*existing) {
      result->set_account_id(**existing);  // imported before: idempotent, nothing new
      continue;
    }
    absl::StatusOr<Account> account = ValidateNewAccount(create.account(), "account");
    if (!account.ok()) {
      fail(account.status());
      continue;
    }
    result->set_account_id(account->id());
    mutation.RememberRequest("CreateAccount", create.request_id(), fingerprint, account->id());
    mutation.Emit({Mutation::Primary::kAccountCreated, account->id()});
    if (!account->owner_manager_id().empty()) {
      mutation.Emit({Mutation::Primary::kAccountAssigned,
                     account->id(),
                     {},
                     "imported with owner",
                     "",
                     account->owner_manager_id()});
    }
    mutation.Put(*std::move(account));
    ++created;
  }
  if (!all_ok || request.validate_only()) {
    // Nothing is applied: ids shown for valid rows would not exist.
    for (auto& result : *response.mutable_results()) {
      if (result.code() == 0 && !accounts_.count(result.account_id())) result.clear_account_id();
    }
    response.set_created(0);
    response.set_applied(false);
    return response;
  }
  KAM_RETURN_IF_ERROR(mutation.Commit());
  response.set_created(created);
  response.set_applied(true);
  return response;
}

size_t AccountsBook::account_count() const {
  std::shared_lock lock(mutex_);
  return accounts_.size();
}

size_t AccountsBook::manager_count() const {
  std::shared_lock lock(mutex_);
  return managers_.size();
}

}  // namespace kam::accounts
