// InteractionsBook over a real RocksDB and outbox, with its account replica fed the way the
// consumer feeds it: what a ticketing or survey integration relies on.

#include "services/interactions/interactions_book.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/error_details.h"
#include "common/kafka_topics.h"
#include "common/record_applier.h"
#include "common/time_util.h"
#include "tests/testing/temp_dir.h"

namespace kam::interactions {
namespace {

using kam::v1::Interaction;

class InteractionsBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({.path = dir_.Sub("db")}, InteractionsBook::ColumnFamilies());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    outbox_ = std::move(*Outbox::Open(store_.get()));
    InteractionsOptions options;
    options.replica_wait_millis = 300;
    committer_ = std::make_unique<OutboxCommitter>(store_.get(), outbox_.get());
    book_ =
        std::move(*InteractionsBook::Open(store_.get(), committer_.get(), &ownership_, options));
    applier_ = std::make_unique<RecordApplier>(store_.get(), outbox_.get(),
                                               book_->account_replica(), "kam-interactions");
    AccountEvent("acc_1", "mgr_1", false);
  }

  // Delivers an account event to the replica as the consumer would.
  void AccountEvent(const std::string& id, const std::string& owner, bool closed) {
    kam::v1::EventEnvelope envelope;
    auto* account = envelope.mutable_account_updated()->mutable_account();
    account->set_id(id);
    account->set_owner_manager_id(owner);
    account->set_lifecycle_phase(closed ? kam::v1::LIFECYCLE_PHASE_CHURNED
                                        : kam::v1::LIFECYCLE_PHASE_ESTABLISHED);
    ASSERT_TRUE(
        applier_
            ->Apply({kafka_topics::kAccounts, 0, offset_++, id, envelope.SerializeAsString(), 0})
            .ok());
  }

  static kam::v1::RecordInteractionRequest Survey(const std::string& request_id, int nps,
                                                  int64_t at_millis = 0) {
    kam::v1::RecordInteractionRequest request;
    request.set_request_id(request_id);
    auto* interaction = request.mutable_interaction();
    interaction->set_account_id("acc_1");
    interaction->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
    interaction->mutable_survey()->set_nps(nps);
    if (at_millis != 0) *interaction->mutable_occur_time() = TimestampFromMillis(at_millis);
    return request;
  }

  static kam::v1::RecordInteractionRequest Of(kam::v1::InteractionType type,
                                              const std::string& resolves = "") {
    kam::v1::RecordInteractionRequest request;
    request.mutable_interaction()->set_account_id("acc_1");
    request.mutable_interaction()->set_type(type);
    request.mutable_interaction()->set_resolves_interaction_id(resolves);
    return request;
  }

  size_t Published() {
    auto rows = outbox_->ReadPending(0, 100000);
    size_t count = 0;
    for (const auto& row : *rows) count += row.topic() == kafka_topics::kInteractions;
    return count;
  }

  void ExpectRefused(const kam::v1::RecordInteractionRequest& request, absl::StatusCode code,
                     const std::string& field) {
    size_t before = Published();
    auto result = book_->RecordInteraction(request);
    EXPECT_EQ(result.status().code(), code) << result.status();
    EXPECT_NE(result.status().message().find(field), std::string::npos) << result.status();
    EXPECT_EQ(Published(), before) << "nothing published for a refused interaction";
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<OutboxCommitter> committer_;
  SingleTaskOwnership ownership_;
  std::unique_ptr<InteractionsBook> book_;
  std::unique_ptr<RecordApplier> applier_;
  int64_t offset_ = 0;
};

TEST_F(InteractionsBookTest, RecordsAndPublishesWithTheOwnerAtTheTime) {
  auto recorded = book_->RecordInteraction(Survey("survey-1", 9));
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->owner_manager_id(), "mgr_1");
  EXPECT_TRUE(recorded->has_record_time());
  EXPECT_TRUE(recorded->has_occur_time());
  auto rows = outbox_->ReadPending(0, 100);
  kam::v1::EventEnvelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(rows->back().value()));
  EXPECT_EQ(rows->back().topic(), kafka_topics::kInteractions);
  EXPECT_EQ(rows->back().key(), "acc_1");
  EXPECT_EQ(envelope.interaction_recorded().interaction().id(), recorded->id());
  EXPECT_EQ(envelope.interaction_recorded().interaction().owner_manager_id(), "mgr_1");
}

TEST_F(InteractionsBookTest, ReplaysAreIdempotentAndConflictsAreRefused) {
  auto first = book_->RecordInteraction(Survey("survey-1", 9));
  auto again = book_->RecordInteraction(Survey("survey-1", 9));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id(), again->id());
  EXPECT_EQ(Published(), 1u);
  ExpectRefused(Survey("survey-1", 3), absl::StatusCode::kAlreadyExists, "request_id");

  auto with_id = Survey("", 8);
  with_id.mutable_interaction()->set_id("ticket-77");
  ASSERT_TRUE(book_->RecordInteraction(with_id).ok());
  EXPECT_EQ(book_->RecordInteraction(with_id)->id(), "ticket-77");
  with_id.mutable_interaction()->mutable_survey()->set_nps(2);
  ExpectRefused(with_id, absl::StatusCode::kAlreadyExists, "interaction.id");
}

TEST_F(InteractionsBookTest, BadInputIsRefusedNamingTheFieldAndNothingIsStored) {
  using Code = absl::StatusCode;
  ExpectRefused(Survey("a", 11), Code::kInvalidArgument, "interaction.survey.nps");
  auto csat = Survey("b", 0);
  csat.mutable_interaction()->mutable_survey()->set_csat(0);
  ExpectRefused(csat, Code::kInvalidArgument, "interaction.survey.csat");
  auto no_score = Of(kam::v1::INTERACTION_TYPE_SURVEY);
  ExpectRefused(no_score, Code::kInvalidArgument, "interaction.survey");
  auto stray_survey = Of(kam::v1::INTERACTION_TYPE_CALL);
  stray_survey.mutable_interaction()->mutable_survey()->set_nps(5);
  ExpectRefused(stray_survey, Code::kInvalidArgument, "interaction.survey");
  ExpectRefused(Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED), Code::kInvalidArgument,
                "interaction.resolves_interaction_id");
  auto future = Survey("c", 5, MillisFromTimestamp(NowTimestamp()) + 24 * 3600 * 1000);
  ExpectRefused(future, Code::kInvalidArgument, "interaction.occur_time");
  auto long_note = Of(kam::v1::INTERACTION_TYPE_CALL);
  long_note.mutable_interaction()->set_note(std::string(4097, 'n'));
  ExpectRefused(long_note, Code::kInvalidArgument, "interaction.note");
  ExpectRefused(Of(static_cast<kam::v1::InteractionType>(99)), Code::kInvalidArgument,
                "interaction.type");
  ExpectRefused(Of(kam::v1::INTERACTION_TYPE_UNSPECIFIED), Code::kInvalidArgument,
                "interaction.type");
  auto negative = Of(kam::v1::INTERACTION_TYPE_UPSELL);
  negative.mutable_interaction()->mutable_amount()->set_amount_minor(-100);
  negative.mutable_interaction()->mutable_amount()->set_currency("EUR");
  ExpectRefused(negative, Code::kInvalidArgument, "interaction.amount.amount_minor");
  auto unknown = Of(kam::v1::INTERACTION_TYPE_CALL);
  unknown.mutable_interaction()->set_account_id("acc_unknown");
  ExpectRefused(unknown, Code::kNotFound, "interaction.account_id");
  AccountEvent("acc_gone", "mgr_1", true);
  auto closed = Of(kam::v1::INTERACTION_TYPE_CALL);
  closed.mutable_interaction()->set_account_id("acc_gone");
  ExpectRefused(closed, Code::kFailedPrecondition, "interaction.account_id");

  // Every bad field at once, each a violation of its own.
  auto several = Survey("d", 12);
  several.mutable_interaction()->set_channel(static_cast<kam::v1::Channel>(77));
  several.mutable_interaction()->set_note(std::string(4097, 'n'));
  const absl::Status refused = book_->RecordInteraction(several).status();
  const google::rpc::Status rich = errors::ToRpcStatus(refused);
  std::vector<std::string> fields;
  for (const auto& any : rich.details()) {
    google::rpc::BadRequest request;
    if (!any.UnpackTo(&request)) continue;
    for (const auto& violation : request.field_violations()) fields.push_back(violation.field());
  }
  EXPECT_EQ(fields, (std::vector<std::string>{"interaction.channel", "interaction.note",
                                              "interaction.survey.nps"}))
      << refused;
}

TEST_F(InteractionsBookTest, AnAccountCreatedMomentsAgoIsAwaitedBriefly) {
  auto call = Of(kam::v1::INTERACTION_TYPE_CALL);
  call.mutable_interaction()->set_account_id("acc_new");
  std::thread late_event([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the event is on its way
    AccountEvent("acc_new", "mgr_2", false);
  });
  auto recorded = book_->RecordInteraction(call);
  late_event.join();
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->owner_manager_id(), "mgr_2");
}

TEST_F(InteractionsBookTest, ABatchWaitingForUnknownAccountsHoldsNoThreadAndSharesOneDeadline) {
  // 999 items for accounts nobody created, one for an account on its way. Each item used to wait
  // out the replica wait on the calling thread in turn (999 x 300 ms, a gRPC thread held for five
  // minutes); now the call returns at once and the batch is answered by its one deadline.
  kam::v1::BatchRecordInteractionsRequest batch;
  for (int i = 0; i < 999; ++i) {
    auto* item = batch.add_requests();
    *item = Of(kam::v1::INTERACTION_TYPE_CALL);
    item->mutable_interaction()->set_account_id("acc_unknown_" + std::to_string(i));
  }
  auto* late = batch.add_requests();
  *late = Of(kam::v1::INTERACTION_TYPE_CALL);
  late->mutable_interaction()->set_account_id("acc_late");
  std::promise<absl::StatusOr<kam::v1::BatchRecordInteractionsResponse>> answered;
  auto answer = answered.get_future();
  book_->BatchRecordInteractionsAsync(
      batch, [&answered](absl::StatusOr<kam::v1::BatchRecordInteractionsResponse> response) {
        answered.set_value(std::move(response));
      });
  // Not answered yet: acc_late is unknown, and nothing but its arrival or the deadline answers.
  EXPECT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the call returned while its items wait";
  AccountEvent("acc_late", "mgr_2", false);
  auto response = answer.get();
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->results_size(), 1000);
  for (int i = 0; i < 999; ++i) {
    EXPECT_EQ(response->results(i).code(), static_cast<int>(absl::StatusCode::kNotFound)) << i;
    EXPECT_EQ(response->results(i).reason(), "ACCOUNT_NOT_FOUND") << i;
  }
  EXPECT_EQ(response->results(999).code(), 0) << response->results(999).error();
  EXPECT_EQ(response->results(999).reason(), "");
  EXPECT_EQ(response->results(999).interaction().owner_manager_id(), "mgr_2");
}

TEST_F(InteractionsBookTest, RequestsResolveOnceAndFeedHandlingTimes) {
  auto complaint = book_->RecordInteraction(Of(kam::v1::INTERACTION_TYPE_COMPLAINT));
  ASSERT_TRUE(complaint.ok());
  kam::v1::GetAccountHealthRequest health_request;
  health_request.set_account_id("acc_1");
  EXPECT_EQ(book_->GetAccountHealth(health_request)->open_requests_size(), 1);
  ASSERT_TRUE(
      book_->RecordInteraction(Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, complaint->id()))
          .ok());
  auto health = book_->GetAccountHealth(health_request);
  EXPECT_EQ(health->open_requests_size(), 0);
  EXPECT_EQ(health->closed_requests(), 1);
  ExpectRefused(Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, complaint->id()),
                absl::StatusCode::kFailedPrecondition, "already resolved");
}

TEST_F(InteractionsBookTest, AResolutionThatArrivesBeforeItsRequestWaitsForIt) {
  // The ticketing system syncs the resolution first: accepted, held, applied when the request
  // comes -- answered in an hour, never open.
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  auto resolution = Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, "ticket-77");
  *resolution.mutable_interaction()->mutable_occur_time() = TimestampFromMillis(now);
  ASSERT_TRUE(book_->RecordInteraction(resolution).ok());
  kam::v1::GetAccountHealthRequest health_request;
  health_request.set_account_id("acc_1");
  EXPECT_EQ(book_->GetAccountHealth(health_request)->closed_requests(), 0);
  ExpectRefused(Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, "ticket-77"),
                absl::StatusCode::kFailedPrecondition, "already resolved");

  auto request = Of(kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST);
  request.mutable_interaction()->set_id("ticket-77");
  *request.mutable_interaction()->mutable_occur_time() = TimestampFromMillis(now - 3600 * 1000);
  ASSERT_TRUE(book_->RecordInteraction(request).ok());
  auto health = book_->GetAccountHealth(health_request);
  EXPECT_EQ(health->open_requests_size(), 0) << "resolved before it arrived";
  EXPECT_EQ(health->closed_requests(), 1);
  ExpectRefused(Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, "ticket-77"),
                absl::StatusCode::kFailedPrecondition, "already resolved");

  // Naming something that is not a request is still an error.
  auto call = book_->RecordInteraction(Of(kam::v1::INTERACTION_TYPE_CALL));
  ASSERT_TRUE(call.ok());
  ExpectRefused(Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, call->id()),
                absl::StatusCode::kInvalidArgument, "interaction.resolves_interaction_id");
}

TEST_F(InteractionsBookTest, TimesBefore1970AreListedInOrderWithoutOverflow) {
  // A CRM that backfills very old history: 1969 is a valid timestamp. Its index position used to
  // be INT64_MAX - millis, a signed overflow for negative millis (undefined behaviour; #13).
  const int64_t day = 24 * 3600 * 1000;
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  for (int64_t at : {-2 * day, now, -day, int64_t{0}}) {
    auto call = Of(kam::v1::INTERACTION_TYPE_CALL);
    *call.mutable_interaction()->mutable_occur_time() = TimestampFromMillis(at);
    ASSERT_TRUE(book_->RecordInteraction(call).ok());
  }
  kam::v1::ListInteractionsRequest list;
  list.set_account_id("acc_1");
  auto all = book_->ListInteractions(list);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<int64_t> times;
  for (const auto& interaction : all->interactions()) {
    times.push_back(MillisFromTimestamp(interaction.occur_time()));
  }
  EXPECT_EQ(times, (std::vector<int64_t>{now, 0, -day, -2 * day})) << "newest first";

  // A range entirely before 1970.
  *list.mutable_start_time() = TimestampFromMillis(-3 * day);
  *list.mutable_end_time() = TimestampFromMillis(-day);
  auto old = book_->ListInteractions(list);
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_EQ(old->interactions_size(), 1);
  EXPECT_EQ(MillisFromTimestamp(old->interactions(0).occur_time()), -2 * day);
}

TEST_F(InteractionsBookTest, ListsNewestFirstWithFiltersAndPages) {
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  const int64_t day = 24 * 3600 * 1000;
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(
        book_->RecordInteraction(Survey("s" + std::to_string(i), 8, now - (7 - i) * day)).ok());
  }
  auto call = Of(kam::v1::INTERACTION_TYPE_CALL);
  *call.mutable_interaction()->mutable_occur_time() = TimestampFromMillis(now - 10 * day);
  ASSERT_TRUE(book_->RecordInteraction(call).ok());

  kam::v1::ListInteractionsRequest list;
  list.set_account_id("acc_1");
  list.set_page_size(3);
  list.add_types(kam::v1::INTERACTION_TYPE_SURVEY);
  std::vector<int64_t> times;
  while (true) {
    auto page = book_->ListInteractions(list);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& interaction : page->interactions()) {
      EXPECT_EQ(interaction.type(), kam::v1::INTERACTION_TYPE_SURVEY);
      times.push_back(MillisFromTimestamp(interaction.occur_time()));
    }
    if (page->next_page_token().empty()) break;
    list.set_page_token(page->next_page_token());
  }
  ASSERT_EQ(times.size(), 7u);
  EXPECT_TRUE(std::is_sorted(times.rbegin(), times.rend())) << "newest first";

  kam::v1::ListInteractionsRequest range;
  range.set_account_id("acc_1");
  *range.mutable_start_time() = TimestampFromMillis(now - 5 * day);
  *range.mutable_end_time() = TimestampFromMillis(now - 2 * day);
  EXPECT_EQ(book_->ListInteractions(range)->interactions_size(), 3);  // days -5, -4, -3
  range.set_page_token(list.page_token());
  EXPECT_EQ(book_->ListInteractions(range).status().code(), absl::StatusCode::kInvalidArgument);
  kam::v1::ListInteractionsRequest unknown;
  unknown.set_account_id("acc_unknown");
  EXPECT_EQ(book_->ListInteractions(unknown).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(InteractionsBookTest, GarbageOnTheAccountsTopicIsDeadLettered) {
  ASSERT_TRUE(applier_->Apply({kafka_topics::kAccounts, 1, 99, "k", "\xff\x01garbage", 0}).ok());
  EXPECT_EQ(applier_->dead_lettered_total(), 1u);
  auto rows = outbox_->ReadPending(0, 100);
  EXPECT_EQ(rows->back().topic(), kafka_topics::kDeadLetter);
}

}  // namespace
}  // namespace kam::interactions
