#include "services/accounts/mutation.h"

#include "absl/strings/str_cat.h"
#include "common/fingerprint.h"
#include "common/staged_batch.h"

namespace kam::accounts {

void Mutation::RememberRequest(const std::string& kind, const std::string& request_id,
                               const std::string& fingerprint, const std::string& resource_id) {
  if (request_id.empty()) return;
  requests_[absl::StrCat(kind, "/", request_id)] = {fingerprint, resource_id};
}

absl::Status Mutation::Commit(const AccountsPolicy& policy, Store* store, BatchCommitter* committer,
                              uint64_t generation, BookState* book) {
  DerivedChanges derived = Recompute(*book, &changes_, policy);
  StagedBatch batch(store);
  for (const auto& [id, account] : changes_.accounts) {
    KAM_RETURN_IF_ERROR(batch.Put(kAccountsCf, BookKey(id), account.SerializeAsString()));
  }
  for (const auto& [id, manager] : changes_.managers) {
    KAM_RETURN_IF_ERROR(batch.Put(kManagersCf, BookKey(id), manager.SerializeAsString()));
  }
  for (const auto& [key, request] : requests_) {
    KAM_RETURN_IF_ERROR(
        batch.Put(kRequestsCf, BookKey(key), IdempotencyValue(request.first, request.second)));
  }
  std::vector<OutboundEvent> events = BuildEvents(*book, changes_, primaries_, derived);
  KAM_RETURN_IF_ERROR(committer->CommitOwned(&batch, std::move(events), generation));
  // Durable: now memory follows, through the same code a standby applies the changelog with.
  for (auto& [id, account] : changes_.accounts) book->PutAccount(std::move(account));
  for (auto& [id, manager] : changes_.managers) book->PutManager(std::move(manager));
  book->RecomputeTotal();
  return absl::OkStatus();
}

}  // namespace kam::accounts
