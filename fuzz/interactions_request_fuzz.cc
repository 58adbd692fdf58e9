// kam-interactions' boundary: any RecordInteraction, BatchRecordInteractions, GetInteraction,
// ListInteractions or GetAccountHealth request a client can send, against a real book (RocksDB,
// the group committer, the outbox) that knows an open account acc_1 and a closed account acc_2.
// Every answer is OK or one of the codes the API documents for a caller's mistake; an interaction
// that was recorded can be read back as it was answered. Anything else is a finding.
// An input is a sequence of requests (fuzz_store.h steps: the kind picks the call, the body is
// the request's bytes), served by a book that starts empty for every input.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/kafka_topics.h"
#include "common/outbox.h"
#include "common/record_applier.h"
#include "common/store.h"
#include "common/task_ownership.h"
#include "fuzz/fuzz_store.h"
#include "google/protobuf/util/message_differencer.h"
#include "kam/v1/events.pb.h"
#include "kam/v1/interactions.pb.h"
#include "services/interactions/interactions_book.h"

namespace {

using kam::interactions::InteractionsBook;

// The codes a caller's mistake may get (docs/API of InteractionsService).
bool CallersMistake(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

void Require(bool holds, const char* what, const absl::Status& status = absl::OkStatus()) {
  if (holds) return;
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::abort();
}

void RequireAnswer(const absl::Status& status, const char* call) {
  Require(status.ok() || CallersMistake(status.code()), call, status);
}

struct Service {
  explicit Service(kam::fuzz::MemoryStore* emptied) : store(emptied->get()) {
    outbox = kam::fuzz::HarnessMust(kam::Outbox::Open(store));
    committer = std::make_unique<kam::OutboxCommitter>(store, outbox.get());
    kam::interactions::InteractionsOptions options;
    options.replica_wait_millis = 0;  // an unknown account is answered at once
    book =
        kam::fuzz::HarnessMust(InteractionsBook::Open(store, committer.get(), &ownership, options));
    kam::RecordApplier replica(store, outbox.get(), book->account_replica(), "kam-interactions");
    Account(replica, "acc_1", false);
    Account(replica, "acc_2", true);
  }

  void Account(kam::RecordApplier& replica, const std::string& id, bool closed) {
    kam::v1::EventEnvelope envelope;
    auto* account = envelope.mutable_account_updated()->mutable_account();
    account->set_id(id);
    account->set_owner_manager_id("mgr_1");
    account->set_lifecycle_phase(closed ? kam::v1::LIFECYCLE_PHASE_CHURNED
                                        : kam::v1::LIFECYCLE_PHASE_ESTABLISHED);
    Require(
        replica
            .Apply({kam::kafka_topics::kAccounts, 0, offset++, id, envelope.SerializeAsString(), 0})
            .ok(),
        "harness: replica");
  }

  kam::Store* store;
  std::unique_ptr<kam::Outbox> outbox;
  std::unique_ptr<kam::OutboxCommitter> committer;
  kam::SingleTaskOwnership ownership;
  std::unique_ptr<InteractionsBook> book;
  int64_t offset = 0;
};

// A recorded interaction is there to read, as it was answered.
void RequireReadBack(Service& service, const kam::v1::Interaction& recorded) {
  kam::v1::GetInteractionRequest get;
  get.set_id(recorded.id());
  auto stored = service.book->GetInteraction(get);
  Require(stored.ok(), "recorded interaction not found", stored.status());
  Require(google::protobuf::util::MessageDifferencer::Equals(*stored, recorded),
          "recorded interaction reads back different");
}

template <typename Request>
bool Parse(std::string_view body, Request* request) {
  return request->ParseFromArray(body.data(), static_cast<int>(body.size()));
}

void Record(Service& service, std::string_view body) {
  kam::v1::RecordInteractionRequest request;
  if (!Parse(body, &request)) return;
  auto recorded = service.book->RecordInteraction(request);
  RequireAnswer(recorded.status(), "RecordInteraction");
  if (recorded.ok()) RequireReadBack(service, *recorded);
}

void Batch(Service& service, std::string_view body) {
  kam::v1::BatchRecordInteractionsRequest request;
  if (!Parse(body, &request)) return;
  auto response = service.book->BatchRecordInteractions(request);
  RequireAnswer(response.status(), "BatchRecordInteractions");
  if (!response.ok()) return;
  Require(response->results_size() == request.requests_size(), "one result per item");
  for (const auto& result : response->results()) {
    const auto code = static_cast<absl::StatusCode>(result.code());
    Require(code == absl::StatusCode::kOk || CallersMistake(code), "batch item code");
    if (code == absl::StatusCode::kOk) RequireReadBack(service, result.interaction());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  kam::v1::RecordInteractionRequest survey;
  survey.set_request_id("req-1");
  survey.mutable_interaction()->set_account_id("acc_1");
  survey.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
  survey.mutable_interaction()->mutable_survey()->set_nps(4);
  kam::v1::BatchRecordInteractionsRequest batch;
  *batch.add_requests() = survey;
  batch.add_requests()->mutable_interaction()->set_account_id("acc_2");
  kam::v1::ListInteractionsRequest list;
  list.set_account_id("acc_1");
  list.set_page_size(2);
  list.add_types(kam::v1::INTERACTION_TYPE_SURVEY);
  kam::v1::GetAccountHealthRequest health;
  health.set_account_id("acc_1");
  using kam::fuzz::EncodeStep;
  const std::string record = EncodeStep(0, survey.SerializeAsString());
  kam::fuzz::WriteSeedsIfAsked(
      {{"record", record},
       {"batch", EncodeStep(1, batch.SerializeAsString())},
       {"record_then_list", record + EncodeStep(2, list.SerializeAsString())},
       {"record_twice_then_health", record + record + EncodeStep(4, health.SerializeAsString())}});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static kam::fuzz::MemoryStore store(InteractionsBook::ColumnFamilies());
  store.Wipe();
  Service service(&store);
  for (const kam::fuzz::Step& step : kam::fuzz::Steps(data, size, 16)) {
    switch (step.kind % 5) {
      case 0:
        Record(service, step.body);
        break;
      case 1:
        Batch(service, step.body);
        break;
      case 2: {
        kam::v1::ListInteractionsRequest request;
        if (Parse(step.body, &request)) {
          RequireAnswer(service.book->ListInteractions(request).status(), "ListInteractions");
        }
        break;
      }
      case 3: {
        kam::v1::GetInteractionRequest request;
        if (Parse(step.body, &request)) {
          RequireAnswer(service.book->GetInteraction(request).status(), "GetInteraction");
        }
        break;
      }
      default: {
        kam::v1::GetAccountHealthRequest request;
        if (Parse(step.body, &request)) {
          RequireAnswer(service.book->GetAccountHealth(request).status(), "GetAccountHealth");
        }
        break;
      }
    }
  }
  return 0;
}
