#pragma once

// The interactions service's logic: records touchpoints with an account, keeps each account's
// health state current as they arrive, and keeps a replica of the accounts it needs, built from
// kam.accounts.v1. Plain C++ over RocksDB and a BatchCommitter; no gRPC, no Kafka.
//
// All state belongs to the task of its account (the account's partition on kam.accounts.v1 and
// kam.interactions.v1): every key starts with the task number, so the state is changelogged per
// task and restored where the task moves. This instance serves an account only while the
// account's task runs here (TaskOwnership); anything else is refused with UNAVAILABLE (the gRPC
// layer forwards such calls to the owner before they get here).
//
// Rule for an account created a moment ago: RecordInteraction waits up to `replica_wait_millis`
// (default 3 s; one deadline for a whole batch) for its AccountCreated event to reach the
// replica, then answers NOT_FOUND ("retry later"). It never accepts an interaction for an account
// it cannot confirm, so nothing needs reconciling later. The wait holds no thread: the call
// waits in DeadlineWaiters and is woken by the replica's commits.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/deadline_waiters.h"
#include "common/group_committer.h"
#include "common/outbox.h"
#include "common/page_token.h"
#include "common/status.h"
#include "common/store.h"
#include "common/stream_task.h"
#include "common/task_ownership.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/interactions.pb.h"
#include "services/interactions/health.h"

namespace kam::interactions {

struct InteractionsOptions {
  HealthPolicy health;
  int replica_wait_millis = 3000;
  // Event times further ahead of the server clock than this are refused (clock skew allowance).
  int64_t max_future_skew_millis = 5 * 60 * 1000;
  size_t max_note_bytes = 4096;
  int max_batch_items = 1000;
  // Signs page tokens. Instances that share the work must share it (a listing continues on
  // whichever instance owns the account next); empty: a secret kept in this store.
  std::string page_token_secret;
};

class InteractionsBook {
 public:
  static std::vector<std::string> ColumnFamilies();
  // All of them: every key starts with its task number.
  static std::vector<std::string> TaskColumnFamilies() { return ColumnFamilies(); }
  // Writes commit through `committer` (a Kafka transaction per group of writes, or the outbox).
  static absl::StatusOr<std::unique_ptr<InteractionsBook>> Open(Store* store,
                                                                BatchCommitter* committer,
                                                                const TaskOwnership* ownership,
                                                                InteractionsOptions options);

  using Recorded = std::function<void(absl::StatusOr<kam::v1::Interaction>)>;
  // Checks the request on the calling thread, then hands the write to the group committer;
  // `done` gets the stored interaction once it is durable (from the committer thread), or the
  // error. A replay of an earlier call is answered at once; a call for an account the replica
  // does not know yet waits for it without blocking the caller (answered from the waiters'
  // thread). Never blocks.
  void RecordInteractionAsync(const kam::v1::RecordInteractionRequest& request, Recorded done);
  // The same, waiting for the outcome (tests and tools).
  absl::StatusOr<kam::v1::Interaction> RecordInteraction(
      const kam::v1::RecordInteractionRequest& request);
  using BatchRecorded = std::function<void(absl::StatusOr<kam::v1::BatchRecordInteractionsResponse>)>;
  // Every item at once, with one deadline for the whole batch; `done` once every item has its
  // outcome. Never blocks.
  void BatchRecordInteractionsAsync(const kam::v1::BatchRecordInteractionsRequest& request,
                                    BatchRecorded done);
  // The same, waiting for the outcome (tests and tools).
  absl::StatusOr<kam::v1::BatchRecordInteractionsResponse> BatchRecordInteractions(
      const kam::v1::BatchRecordInteractionsRequest& request);
  absl::StatusOr<kam::v1::Interaction> GetInteraction(
      const kam::v1::GetInteractionRequest& request) const;
  absl::StatusOr<kam::v1::ListInteractionsResponse> ListInteractions(
      const kam::v1::ListInteractionsRequest& request) const;
  absl::StatusOr<kam::v1::AccountHealth> GetAccountHealth(
      const kam::v1::GetAccountHealthRequest& request) const;

  // Applies kam.accounts.v1 records to the account replica (consumer side).
  StreamProcessor* account_replica() { return &replica_; }

 private:
  class ReplicaProcessor : public StreamProcessor {
   public:
    explicit ReplicaProcessor(InteractionsBook* book) : book_(book) {}
    std::unique_ptr<UnitOfWork> Begin(StagedBatch* batch,
                                      std::vector<OutboundEvent>* events) override;

   private:
    class Unit;
    InteractionsBook* book_;
  };

  InteractionsBook(Store* store, BatchCommitter* committer, const TaskOwnership* ownership,
                   InteractionsOptions options, PageTokens tokens)
      : store_(store),
        ownership_(ownership),
        options_(options),
        tokens_(std::move(tokens)),
        replica_(this),
        committer_(std::make_unique<GroupCommitter>(store, committer)) {}

  // The task of `account_id`, if it runs here; else UNAVAILABLE (retry: the caller's next try is
  // routed to the new owner).
  absl::StatusOr<int32_t> ServedTask(const std::string& account_id) const;
  absl::StatusOr<std::optional<kam::internal::v1::AccountReplica>> LoadReplica(
      int32_t task, const std::string& account_id) const;
  // The account as the replica knows it: nullopt when not (yet); FAILED_PRECONDITION when closed.
  absl::StatusOr<std::optional<kam::internal::v1::AccountReplica>> ConfirmedAccount(
      int32_t task, const std::string& account_id) const;
  // One RecordInteraction between its checks and its write.
  struct PendingRecord;
  // Checks `request`; the pending write, or (replayed) the answer of an earlier identical call.
  absl::StatusOr<std::shared_ptr<PendingRecord>> PrepareRecord(
      const kam::v1::RecordInteractionRequest& request) const;
  // RecordInteractionAsync with the deadline for the account to be known.
  void RecordBefore(const kam::v1::RecordInteractionRequest& request,
                    DeadlineWaiters::Clock::time_point deadline, Recorded done);
  // Waits (without a thread) until the replica knows the pending write's account, then submits.
  void AwaitAccountThenSubmit(std::shared_ptr<PendingRecord> write, uint64_t seen_generation,
                              DeadlineWaiters::Clock::time_point deadline, Recorded done);
  void Submit(std::shared_ptr<PendingRecord> write, Recorded done);
  // The write itself, on the committer thread; reads see the writes staged before it.
  absl::Status StageRecord(PendingRecord* pending, StagedBatch* batch,
                           std::vector<OutboundEvent>* events, uint64_t generation) const;

  Store* store_;
  const TaskOwnership* ownership_;
  InteractionsOptions options_;
  PageTokens tokens_;
  ReplicaProcessor replica_;
  // Its thread stops (after committing what it holds) before the rest goes away.
  std::unique_ptr<GroupCommitter> committer_;
  // Calls waiting for an account; notified after each replica commit. Last member: it answers
  // the calls still waiting (NOT_FOUND) before the committer goes away.
  DeadlineWaiters account_waiters_;
};

}  // namespace kam::interactions
