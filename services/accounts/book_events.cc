#include "services/accounts/book_events.h"

#include "common/event_envelope.h"
#include "common/kafka_topics.h"

namespace kam::accounts {
namespace {

constexpr char kSource[] = "kam-accounts";

OutboundEvent Envelope(const char* topic, const std::string& key, const std::string& subject,
                       kam::v1::EventEnvelope envelope) {
  return EnvelopeEvent(topic, key, kSource, std::move(envelope), subject);
}

}  // namespace

std::vector<OutboundEvent> BuildEvents(const BookState& book, const ChangeSet& changes,
                                       const std::vector<PrimaryChange>& primaries,
                                       const DerivedChanges& derived) {
  auto staged_account = [&](const std::string& id) -> const kam::v1::Account& {
    return changes.accounts.at(id);
  };
  std::vector<OutboundEvent> events;
  for (const auto& primary : primaries) {
    kam::v1::EventEnvelope envelope;
    switch (primary.kind) {
      case PrimaryChange::kAccountCreated:
        *envelope.mutable_account_created()->mutable_account() = staged_account(primary.id);
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        break;
      case PrimaryChange::kAccountUpdated: {
        auto* updated = envelope.mutable_account_updated();
        *updated->mutable_account() = staged_account(primary.id);
        for (const auto& field : primary.changed_fields) updated->add_changed_fields(field);
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        break;
      }
      case PrimaryChange::kAccountClosed:
        *envelope.mutable_account_closed()->mutable_account() = staged_account(primary.id);
        envelope.mutable_account_closed()->set_reason(primary.reason);
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        break;
      case PrimaryChange::kAccountAssigned: {
        auto* assigned = envelope.mutable_account_assigned();
        *assigned->mutable_account() = staged_account(primary.id);
        assigned->set_old_manager_id(primary.old_owner);
        assigned->set_new_manager_id(primary.new_owner);
        assigned->set_reason(primary.reason);
        assigned->set_weight(staged_account(primary.id).weight());
        events.push_back(Envelope(kafka_topics::kAccounts, primary.id, primary.id, envelope));
        // Copies keyed by manager, so a consumer that owns manager partitions sees both sides.
        for (const std::string& manager : {primary.old_owner, primary.new_owner}) {
          if (!manager.empty()) {
            events.push_back(Envelope(kafka_topics::kManagers, manager, primary.id, envelope));
          }
        }
        break;
      }
      case PrimaryChange::kManagerCreated:
        *envelope.mutable_manager_created()->mutable_manager() =
            book.WithCapacity(changes.managers.at(primary.id));
        events.push_back(Envelope(kafka_topics::kManagers, primary.id, primary.id, envelope));
        break;
      case PrimaryChange::kManagerUpdated:
        *envelope.mutable_manager_updated()->mutable_manager() =
            book.WithCapacity(changes.managers.at(primary.id));
        events.push_back(Envelope(kafka_topics::kManagers, primary.id, primary.id, envelope));
        break;
    }
  }
  for (const auto& id : derived.derived_only) {
    kam::v1::EventEnvelope envelope;
    auto* updated = envelope.mutable_account_updated();
    *updated->mutable_account() = staged_account(id);
    const kam::v1::Account* before = book.FindAccount(id);
    const kam::v1::Account& after = changes.accounts.at(id);
    if (before->tier() != after.tier()) updated->add_changed_fields("tier");
    if (before->weight() != after.weight()) updated->add_changed_fields("weight");
    if (before->international() != after.international()) {
      updated->add_changed_fields("international");
    }
    updated->add_changed_fields("revenue_share");
    events.push_back(Envelope(kafka_topics::kAccounts, id, id, envelope));
  }
  for (const auto& manager_id : derived.affected_managers) {
    if (changes.FindManager(book, manager_id) == nullptr) continue;
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_manager_load_changed()->mutable_load() = LoadAfter(book, changes, manager_id);
    events.push_back(Envelope(kafka_topics::kManagers, manager_id, manager_id, envelope));
  }
  return events;
}

}  // namespace kam::accounts
