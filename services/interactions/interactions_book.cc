#include "services/interactions/interactions_book.h"

#include <chrono>
#include <future>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/error_details.h"
#include "common/event_envelope.h"
#include "common/field_checks.h"
#include "common/fingerprint.h"
#include "common/ids.h"
#include "common/kafka_topics.h"
#include "common/time_util.h"
#include "common/trace_context.h"
#include "kam/v1/events.pb.h"
#include "services/interactions/interaction_validation.h"

namespace kam::interactions {
namespace {

using kam::internal::v1::AccountHealthState;
using kam::internal::v1::AccountReplica;
using kam::v1::Interaction;

constexpr char kInteractionsCf[] = "interactions";
constexpr char kByAccountCf[] = "by_account";
constexpr char kHealthCf[] = "health";
constexpr char kReplicaCf[] = "replica";
constexpr char kRequestsCf[] = "requests";
constexpr char kSource[] = "kam-interactions";

int64_t NowMillis() { return MillisFromTimestamp(NowTimestamp()); }

// Every key starts with its task: task account \0 (max - occur_millis) id is one account's
// interactions, newest first.
std::string Key(int32_t task, std::string_view rest) {
  std::string key = TaskKeyPrefix(task);
  key.append(rest);
  return key;
}
std::string IndexPrefix(int32_t task, const std::string& account_id) {
  return Key(task, account_id + std::string(1, '\0'));
}
// Event time as an index position, newest first: the sign bit flipped (so signed order becomes
// unsigned order, times before 1970 included), then every bit inverted. Defined for every int64;
// for times from 1970 on it equals the older `INT64_MAX - millis`, so stored keys stay valid.
uint64_t InvertedTime(int64_t millis) {
  return ~(static_cast<uint64_t>(millis) ^ (uint64_t{1} << 63));
}
int64_t TimeOfInverted(uint64_t inverted) {
  return static_cast<int64_t>(~inverted ^ (uint64_t{1} << 63));
}

std::string IndexKey(int32_t task, const Interaction& interaction) {
  return IndexPrefix(task, interaction.account_id()) +
         EncodeUint64(InvertedTime(MillisFromTimestamp(interaction.occur_time()))) +
         interaction.id();
}

}  // namespace

std::vector<std::string> InteractionsBook::ColumnFamilies() {
  return {kInteractionsCf, kByAccountCf, kHealthCf, kReplicaCf, kRequestsCf};
}

absl::StatusOr<std::unique_ptr<InteractionsBook>> InteractionsBook::Open(
    Store* store, BatchCommitter* committer, const TaskOwnership* ownership,
    InteractionsOptions options) {
  KAM_RETURN_IF_ERROR(CheckStoreFormat(
      store, "interactions.store_format", "2", kInteractionsCf,
      "written by an older kam-interactions (state not kept per partition); keep running that "
      "release on it, or start this one with an empty --data-dir and a new --consumer-group"));
  std::optional<PageTokens> tokens;
  if (options.page_token_secret.empty()) {
    KAM_ASSIGN_OR_RETURN(tokens, PageTokens::ForStore(store));
  } else {
    tokens.emplace(options.page_token_secret);
  }
  return std::unique_ptr<InteractionsBook>(
      new InteractionsBook(store, committer, ownership, options, *std::move(tokens)));
}

absl::StatusOr<int32_t> InteractionsBook::ServedTask(const std::string& account_id) const {
  const int32_t task = ownership_->TaskOf(account_id);
  if (!ownership_->RunningSince(task)) {
    return absl::UnavailableError(absl::StrCat(
        "account \"", account_id, "\" belongs to task ", task,
        ", which does not run on this instance now (it moved, or is restoring): retry"));
  }
  return task;
}

absl::StatusOr<std::optional<AccountReplica>> InteractionsBook::LoadReplica(
    int32_t task, const std::string& account_id) const {
  return LoadMessage<AccountReplica>(*store_, kReplicaCf, Key(task, account_id));
}

absl::StatusOr<std::optional<AccountReplica>> InteractionsBook::ConfirmedAccount(
    int32_t task, const std::string& account_id) const {
  KAM_ASSIGN_OR_RETURN(std::optional<AccountReplica> replica, LoadReplica(task, account_id));
  if (replica && replica->closed()) {
    return errors::FailedPrecondition(
        "ACCOUNT_CLOSED", "ACCOUNT_STATE", absl::StrCat("accounts/", account_id),
        absl::StrCat("interaction.account_id: account \"", account_id, "\" is closed"));
  }
  return replica;
}

struct InteractionsBook::PendingRecord {
  int32_t task = 0;
  kam::v1::RecordInteractionRequest request;
  std::string fingerprint;
  int64_t now = 0;
  AccountReplica account;
  bool replayed = false;       // an earlier call stored it: `result` is that call's answer
  bool account_known = false;  // `account` holds the replica's account
  Interaction result;          // what the call answers
  // The call's trace: the write is staged on the committer thread, which runs no call's trace.
  std::string traceparent;
};

namespace {

// The interaction an earlier call with the same request_id (or client-chosen id) stored, if any.
// Request ids and client-chosen ids are unique per account (per task, to be exact): the task owns
// them and nothing else needs to know.
template <typename Reader>
absl::StatusOr<std::optional<Interaction>> Replay(Reader& reader, int32_t task,
                                                  const kam::v1::RecordInteractionRequest& request,
                                                  const std::string& fingerprint) {
  std::optional<std::string> id;
  if (!request.request_id().empty()) {
    KAM_ASSIGN_OR_RETURN(
        id, LookupIdempotent(reader, kRequestsCf,
                             Key(task, absl::StrCat("request/", request.request_id())), fingerprint,
                             "request_id"));
  }
  if (!id && !request.interaction().id().empty()) {
    KAM_ASSIGN_OR_RETURN(
        id, LookupIdempotent(reader, kRequestsCf,
                             Key(task, absl::StrCat("id/", request.interaction().id())),
                             fingerprint, "interaction.id"));
  }
  if (!id) return std::optional<Interaction>();
  return LoadMessage<Interaction>(reader, kInteractionsCf, Key(task, *id));
}

}  // namespace

absl::StatusOr<std::shared_ptr<InteractionsBook::PendingRecord>> InteractionsBook::PrepareRecord(
    const kam::v1::RecordInteractionRequest& request) const {
  KAM_RETURN_IF_ERROR(ValidateText(request.request_id(), "request_id", kMaxIdChars, false));
  if (!request.has_interaction()) return InvalidField("interaction", "required");
  auto pending = std::make_shared<PendingRecord>();
  pending->now = NowMillis();
  pending->traceparent = trace::CurrentTraceparent();
  KAM_RETURN_IF_ERROR(
      ValidateInteraction(request.interaction(), pending->now,
                          {.max_future_skew_millis = options_.max_future_skew_millis,
                           .max_note_bytes = options_.max_note_bytes}));
  pending->request = request;
  pending->fingerprint = Fingerprint(request.interaction());
  KAM_ASSIGN_OR_RETURN(pending->task, ServedTask(request.interaction().account_id()));
  // A replay returns what the first call stored, and publishes nothing.
  KAM_ASSIGN_OR_RETURN(std::optional<Interaction> earlier,
                       Replay(*store_, pending->task, request, pending->fingerprint));
  if (earlier) {
    pending->replayed = true;
    pending->result = *std::move(earlier);
    return pending;
  }
  KAM_ASSIGN_OR_RETURN(std::optional<AccountReplica> account,
                       ConfirmedAccount(pending->task, request.interaction().account_id()));
  if (account) {
    pending->account = *std::move(account);
    pending->account_known = true;
  }
  return pending;
}

void InteractionsBook::RecordInteractionAsync(const kam::v1::RecordInteractionRequest& request,
                                              Recorded done) {
  RecordBefore(
      request,
      DeadlineWaiters::Clock::now() + std::chrono::milliseconds(options_.replica_wait_millis),
      std::move(done));
}

void InteractionsBook::RecordBefore(const kam::v1::RecordInteractionRequest& request,
                                    DeadlineWaiters::Clock::time_point deadline, Recorded done) {
  // Read before looking at the replica: a commit between the look and the wait is not missed.
  const uint64_t generation = account_waiters_.generation();
  absl::StatusOr<std::shared_ptr<PendingRecord>> pending = PrepareRecord(request);
  if (!pending.ok()) return done(pending.status());
  std::shared_ptr<PendingRecord> write = *std::move(pending);
  if (write->replayed) return done(std::move(write->result));
  if (!write->account_known) {
    return AwaitAccountThenSubmit(std::move(write), generation, deadline, std::move(done));
  }
  Submit(std::move(write), std::move(done));
}

void InteractionsBook::AwaitAccountThenSubmit(std::shared_ptr<PendingRecord> write,
                                              uint64_t seen_generation,
                                              DeadlineWaiters::Clock::time_point deadline,
                                              Recorded done) {
  account_waiters_.Wait(
      seen_generation, deadline,
      [this, write, deadline, done = std::move(done)](DeadlineWaiters::Wake wake) mutable {
        const uint64_t generation = account_waiters_.generation();
        const std::string& account_id = write->request.interaction().account_id();
        absl::StatusOr<std::optional<AccountReplica>> account =
            ConfirmedAccount(write->task, account_id);
        if (!account.ok()) return done(account.status());
        if (*account) {
          write->account = **std::move(account);
          write->account_known = true;
          return Submit(std::move(write), std::move(done));
        }
        if (wake == DeadlineWaiters::Wake::kExpired || DeadlineWaiters::Clock::now() >= deadline) {
          return done(errors::NotFound(
              "Account", account_id,
              absl::StrCat("interaction.account_id: no account \"", account_id,
                           "\" (an account created moments ago may not have reached this "
                           "service yet; retry)")));
        }
        AwaitAccountThenSubmit(std::move(write), generation, deadline, std::move(done));
      });
}

void InteractionsBook::Submit(std::shared_ptr<PendingRecord> write, Recorded done) {
  committer_->Submit(
      [this, write](StagedBatch* batch, std::vector<OutboundEvent>* events, uint64_t generation) {
        return StageRecord(write.get(), batch, events, generation);
      },
      [write, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(status);
        done(std::move(write->result));
      });
}

absl::StatusOr<Interaction> InteractionsBook::RecordInteraction(
    const kam::v1::RecordInteractionRequest& request) {
  std::promise<absl::StatusOr<Interaction>> outcome;
  std::future<absl::StatusOr<Interaction>> result = outcome.get_future();
  RecordInteractionAsync(request, [&outcome](absl::StatusOr<Interaction> recorded) {
    outcome.set_value(std::move(recorded));
  });
  return result.get();
}

absl::Status InteractionsBook::StageRecord(PendingRecord* pending, StagedBatch* batch,
                                           std::vector<OutboundEvent>* events,
                                           uint64_t generation) const {
  const kam::v1::RecordInteractionRequest& request = pending->request;
  const Interaction& input = request.interaction();
  const int32_t task = pending->task;
  // Checked again here: the task may have moved since the call's first look (the commit refuses
  // the group if a rebalance comes after this).
  if (ownership_->RunningSince(task) != generation) {
    return absl::UnavailableError(absl::StrCat(
        "account \"", input.account_id(), "\" belongs to task ", task,
        ", which moved during the call; nothing was stored: retry, with the same request_id to "
        "make the retry safe"));
  }
  // A twin staged or committed since the check: answer with its result.
  KAM_ASSIGN_OR_RETURN(std::optional<Interaction> earlier,
                       Replay(*batch, task, request, pending->fingerprint));
  if (earlier) {
    pending->result = *std::move(earlier);
    return absl::OkStatus();
  }

  Interaction stored = input;
  if (stored.id().empty()) {
    stored.set_id(absl::StrCat("int_", absl::StrReplaceAll(NewUuid(), {{"-", ""}}).substr(0, 20)));
  }
  if (!stored.has_occur_time()) *stored.mutable_occur_time() = TimestampFromMillis(pending->now);
  *stored.mutable_record_time() = TimestampFromMillis(pending->now);
  stored.set_owner_manager_id(pending->account.owner_manager_id());

  KAM_ASSIGN_OR_RETURN(
      std::optional<AccountHealthState> loaded,
      LoadMessage<AccountHealthState>(*batch, kHealthCf, Key(task, stored.account_id())));
  AccountHealthState health = loaded.value_or(AccountHealthState());
  if (stored.type() == kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED) {
    const auto* open = FindOpenRequest(health, stored.resolves_interaction_id());
    if (open == nullptr) {
      KAM_ASSIGN_OR_RETURN(std::optional<Interaction> named,
                           LoadMessage<Interaction>(*batch, kInteractionsCf,
                                                    Key(task, stored.resolves_interaction_id())));
      if (named && named->account_id() == stored.account_id() && IsRequest(named->type())) {
        return errors::FailedPrecondition(
            "REQUEST_ALREADY_RESOLVED", "REQUEST_STATE",
            absl::StrCat("interactions/", stored.resolves_interaction_id()),
            absl::StrCat("interaction.resolves_interaction_id: request \"",
                         stored.resolves_interaction_id(), "\" is already resolved"));
      }
      if (named) {
        return InvalidField("interaction.resolves_interaction_id",
                            absl::StrCat("\"", stored.resolves_interaction_id(),
                                         "\" is not a complaint or support request of account \"",
                                         stored.account_id(), "\""));
      }
      // Not known yet: ticketing systems sync out of order. The resolution waits for its request
      // (health.h, ApplyInteraction) -- once.
      if (FindEarlyResolution(health, stored.resolves_interaction_id()) != nullptr) {
        return errors::FailedPrecondition(
            "REQUEST_ALREADY_RESOLVED", "REQUEST_STATE",
            absl::StrCat("interactions/", stored.resolves_interaction_id()),
            absl::StrCat("interaction.resolves_interaction_id: request \"",
                         stored.resolves_interaction_id(),
                         "\" is already resolved (its resolution waits for it)"));
      }
    } else if (MillisFromTimestamp(stored.occur_time()) < MillisFromTimestamp(open->open_time())) {
      return InvalidField("interaction.occur_time", "before the request it resolves was opened");
    }
  }
  if (!input.id().empty()) {
    KAM_ASSIGN_OR_RETURN(std::optional<std::string> taken,
                         batch->Get(kInteractionsCf, Key(task, input.id())));
    if (taken) {
      return errors::WithReason(
          absl::AlreadyExistsError(
              absl::StrCat("interaction.id: \"", input.id(), "\" exists with different content")),
          "INTERACTION_ID_TAKEN");
    }
  }
  ApplyInteraction(stored, &health, options_.health);

  KAM_RETURN_IF_ERROR(
      batch->Put(kInteractionsCf, Key(task, stored.id()), stored.SerializeAsString()));
  KAM_RETURN_IF_ERROR(batch->Put(kByAccountCf, IndexKey(task, stored), ""));
  KAM_RETURN_IF_ERROR(
      batch->Put(kHealthCf, Key(task, stored.account_id()), health.SerializeAsString()));
  if (!request.request_id().empty()) {
    KAM_RETURN_IF_ERROR(batch->Put(kRequestsCf,
                                   Key(task, absl::StrCat("request/", request.request_id())),
                                   IdempotencyValue(pending->fingerprint, stored.id())));
  }
  KAM_RETURN_IF_ERROR(batch->Put(kRequestsCf, Key(task, absl::StrCat("id/", stored.id())),
                                 IdempotencyValue(pending->fingerprint, stored.id())));

  kam::v1::EventEnvelope envelope;
  *envelope.mutable_interaction_recorded()->mutable_interaction() = stored;
  events->push_back(EnvelopeEvent(kafka_topics::kInteractions, stored.account_id(), kSource,
                                  std::move(envelope), "", stored.occur_time()));
  events->back().traceparent = pending->traceparent;
  pending->result = std::move(stored);
  return absl::OkStatus();
}

void InteractionsBook::BatchRecordInteractionsAsync(
    const kam::v1::BatchRecordInteractionsRequest& request, BatchRecorded done) {
  if (request.requests_size() == 0)
    return done(InvalidField("requests", "at least one item required"));
  if (request.requests_size() > options_.max_batch_items) {
    return done(
        InvalidField("requests", absl::StrCat("at most ", options_.max_batch_items,
                                              " items per call, got ", request.requests_size())));
  }
  // Every item goes to the committer at once, so the whole batch usually lands in one commit; the
  // items waiting for their account share one deadline.
  struct Outcomes {
    Mutex mutex;
    std::vector<std::optional<absl::StatusOr<Interaction>>> items ABSL_GUARDED_BY(mutex);
    int remaining ABSL_GUARDED_BY(mutex) = 0;
    BatchRecorded done;
  };
  auto outcomes = std::make_shared<Outcomes>();
  {
    MutexLock lock(&outcomes->mutex);
    outcomes->items.resize(request.requests_size());
    outcomes->remaining = request.requests_size();
  }
  outcomes->done = std::move(done);
  const auto deadline =
      DeadlineWaiters::Clock::now() + std::chrono::milliseconds(options_.replica_wait_millis);
  for (int i = 0; i < request.requests_size(); ++i) {
    RecordBefore(request.requests(i), deadline, [outcomes, i](absl::StatusOr<Interaction> result) {
      std::vector<std::optional<absl::StatusOr<Interaction>>> items;
      {
        MutexLock lock(&outcomes->mutex);
        outcomes->items[i] = std::move(result);
        if (--outcomes->remaining > 0) return;
        items = std::move(outcomes->items);  // the last item: every other writer is done
      }
      kam::v1::BatchRecordInteractionsResponse response;
      for (size_t n = 0; n < items.size(); ++n) {
        auto* item = response.add_results();
        item->set_index(static_cast<int32_t>(n));
        absl::StatusOr<Interaction>& recorded = *items[n];
        if (recorded.ok()) {
          *item->mutable_interaction() = *std::move(recorded);
          continue;
        }
        if (absl::IsInternal(recorded.status()) || absl::IsDataLoss(recorded.status())) {
          return outcomes->done(recorded.status());  // a broken store: fail the call
        }
        // UNAVAILABLE (the task moved, a transient storage or broker error) stays per item: the
        // caller retries those items.
        item->set_code(static_cast<int32_t>(recorded.status().code()));
        item->set_error(std::string(recorded.status().message()));
        item->set_reason(errors::ReasonOf(recorded.status()));
      }
      outcomes->done(std::move(response));
    });
  }
}

absl::StatusOr<kam::v1::BatchRecordInteractionsResponse> InteractionsBook::BatchRecordInteractions(
    const kam::v1::BatchRecordInteractionsRequest& request) {
  std::promise<absl::StatusOr<kam::v1::BatchRecordInteractionsResponse>> outcome;
  auto result = outcome.get_future();
  BatchRecordInteractionsAsync(
      request, [&outcome](absl::StatusOr<kam::v1::BatchRecordInteractionsResponse> response) {
        outcome.set_value(std::move(response));
      });
  return result.get();
}

absl::StatusOr<Interaction> InteractionsBook::GetInteraction(
    const kam::v1::GetInteractionRequest& request) const {
  if (request.id().empty()) return InvalidField("id", "required");
  // The id does not name its account: look in every task that runs here.
  for (int32_t task : ownership_->RunningTasks()) {
    KAM_ASSIGN_OR_RETURN(
        std::optional<Interaction> found,
        LoadMessage<Interaction>(*store_, kInteractionsCf, Key(task, request.id())));
    if (found) return *found;
  }
  return errors::NotFound("Interaction", request.id(),
                          absl::StrCat("id: no interaction \"", request.id(), "\""));
}

absl::StatusOr<kam::v1::ListInteractionsResponse> InteractionsBook::ListInteractions(
    const kam::v1::ListInteractionsRequest& request) const {
  if (request.account_id().empty()) return InvalidField("account_id", "required");
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  std::string filter = absl::StrCat("interactions|", request.account_id(), "|");
  for (int i = 0; i < request.types_size(); ++i) {
    KAM_RETURN_IF_ERROR(ValidateEnumValue(request.types(i), kam::v1::InteractionType_IsValid,
                                          absl::StrCat("types[", i, "]"), true));
    absl::StrAppend(&filter, request.types(i), ",");
  }
  int64_t start = std::numeric_limits<int64_t>::min();
  int64_t end = std::numeric_limits<int64_t>::max();
  if (request.has_start_time()) {
    KAM_RETURN_IF_ERROR(ValidateTimestamp(request.start_time(), "start_time"));
    start = MillisFromTimestamp(request.start_time());
  }
  if (request.has_end_time()) {
    KAM_RETURN_IF_ERROR(ValidateTimestamp(request.end_time(), "end_time"));
    end = MillisFromTimestamp(request.end_time());
  }
  if (start >= end) return InvalidField("end_time", "must be after start_time");
  absl::StrAppend(&filter, "|", start, "|", end);
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  KAM_ASSIGN_OR_RETURN(const int32_t task, ServedTask(request.account_id()));
  KAM_ASSIGN_OR_RETURN(std::optional<AccountReplica> account,
                       LoadReplica(task, request.account_id()));
  if (!account) {
    return errors::NotFound("Account", request.account_id(),
                            absl::StrCat("account_id: no account \"", request.account_id(), "\""));
  }

  kam::v1::ListInteractionsResponse response;
  const std::string prefix = IndexPrefix(task, request.account_id());
  auto it = store_->NewIterator(kByAccountCf);
  if (after.empty()) {
    // Newest first: the first key at or below `end` (exclusive) in inverted time.
    uint64_t inverted_end = end == std::numeric_limits<int64_t>::max() ? 0 : InvertedTime(end) + 1;
    it->Seek(prefix + EncodeUint64(inverted_end));
  } else {
    it->Seek(after);
    if (it->Valid() && it->key().ToString() == after) it->Next();
  }
  std::string last_key;
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string key = it->key().ToString();
    const int64_t at = TimeOfInverted(DecodeUint64(std::string_view(key).substr(prefix.size(), 8)));
    if (at < start) break;
    if (at >= end) continue;
    if (response.interactions_size() == page_size) {
      response.set_next_page_token(tokens_.Issue(filter, last_key));
      break;
    }
    std::string id = key.substr(prefix.size() + 8);
    KAM_ASSIGN_OR_RETURN(std::optional<Interaction> interaction,
                         LoadMessage<Interaction>(*store_, kInteractionsCf, Key(task, id)));
    if (!interaction)
      return absl::DataLossError(absl::StrCat("index names missing interaction ", id));
    last_key = key;
    if (request.types_size() > 0 && std::find(request.types().begin(), request.types().end(),
                                              interaction->type()) == request.types().end()) {
      continue;
    }
    *response.add_interactions() = *std::move(interaction);
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan interactions"));
  return response;
}

absl::StatusOr<kam::v1::AccountHealth> InteractionsBook::GetAccountHealth(
    const kam::v1::GetAccountHealthRequest& request) const {
  if (request.account_id().empty()) return InvalidField("account_id", "required");
  KAM_ASSIGN_OR_RETURN(const int32_t task, ServedTask(request.account_id()));
  KAM_ASSIGN_OR_RETURN(std::optional<AccountReplica> account,
                       LoadReplica(task, request.account_id()));
  if (!account) {
    return errors::NotFound("Account", request.account_id(),
                            absl::StrCat("account_id: no account \"", request.account_id(), "\""));
  }
  KAM_ASSIGN_OR_RETURN(
      std::optional<AccountHealthState> state,
      LoadMessage<AccountHealthState>(*store_, kHealthCf, Key(task, request.account_id())));
  AccountHealthState empty;
  empty.set_account_id(request.account_id());
  return BuildHealth(state.value_or(empty), NowMillis(), options_.health);
}

// One batch of kam.accounts.v1 records applied to the replica.
class InteractionsBook::ReplicaProcessor::Unit : public UnitOfWork {
 public:
  Unit(InteractionsBook* book, StagedBatch* batch) : book_(book), batch_(batch) {}
  absl::Status Apply(const ConsumedRecord& record) override;
  // Wakes calls waiting for an account once the replica is durable.
  void Committed() override { book_->account_waiters_.Notify(); }

 private:
  InteractionsBook* book_;
  StagedBatch* batch_;
};

std::unique_ptr<UnitOfWork> InteractionsBook::ReplicaProcessor::Begin(StagedBatch* batch,
                                                                      std::vector<OutboundEvent>*) {
  return std::make_unique<Unit>(book_, batch);
}

absl::Status InteractionsBook::ReplicaProcessor::Unit::Apply(const ConsumedRecord& record) {
  kam::v1::EventEnvelope envelope;
  if (!envelope.ParseFromString(record.value)) {
    return absl::InvalidArgumentError("value: not a kam.v1.EventEnvelope");
  }
  if (envelope.payload_case() == kam::v1::EventEnvelope::PAYLOAD_NOT_SET) {
    return absl::InvalidArgumentError("value: envelope without payload");
  }
  const kam::v1::Account* account = AccountOf(envelope);
  if (account == nullptr) return absl::OkStatus();  // not about accounts: nothing to keep
  if (account->id().empty() || account->id() != record.key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key: \"", record.key, "\" does not match account id \"", account->id(), "\""));
  }
  AccountReplica replica;
  replica.set_account_id(account->id());
  replica.set_name(account->name());
  replica.set_owner_manager_id(account->owner_manager_id());
  replica.set_closed(account->lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED);
  replica.set_last_sequence(envelope.producer_sequence());
  return batch_->Put(kReplicaCf, Key(record.partition, replica.account_id()),
                     replica.SerializeAsString());
}

}  // namespace kam::interactions
