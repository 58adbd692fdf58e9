#include "services/alerts/held_back.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/record_applier.h"
#include "common/trace_context.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {

using kam::internal::v1::ParkedRecord;

absl::Status HoldBack(AlertTx& tx, int32_t p, const ConsumedRecord& record, int64_t occur_millis,
                      int64_t wall_millis) {
  ParkedRecord held;
  held.set_topic(record.topic);
  held.set_partition(record.partition);
  held.set_offset(record.offset);
  held.set_key(record.key);
  held.set_value(record.value);
  held.set_occur_millis(occur_millis);
  held.set_parked_wall_millis(wall_millis);
  held.set_traceparent(record.traceparent);
  tx.CountParked();
  return tx.Put(kParkedCf,
                ParkedPrefix(p, record.key) + EncodeUint64(static_cast<uint64_t>(record.offset)),
                held.SerializeAsString());
}

absl::StatusOr<std::vector<ConsumedRecord>> TakeHeldBack(AlertTx& tx, int32_t p,
                                                         const std::string& account_id) {
  std::vector<ParkedRecord> held;
  std::vector<std::string> keys;
  const std::string prefix = ParkedPrefix(p, account_id);
  {
    auto it = tx.NewPrefixIterator(kParkedCf, prefix);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      ParkedRecord record;
      if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError("parked record does not parse");
      }
      held.push_back(std::move(record));
      keys.push_back(it->key().ToString());
    }
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan parked"));
  }
  for (const auto& key : keys) KAM_RETURN_IF_ERROR(tx.Delete(kParkedCf, key));
  std::stable_sort(held.begin(), held.end(), [](const auto& a, const auto& b) {
    return a.occur_millis() < b.occur_millis();
  });
  std::vector<ConsumedRecord> records;
  for (const auto& record : held) {
    records.push_back({record.topic(), record.partition(), record.offset(), record.key(),
                       record.value(), -1, record.traceparent()});
  }
  return records;
}

absl::Status ExpireHeldBack(AlertTx& tx, int32_t p, int64_t wall_millis, int64_t grace_millis) {
  std::vector<std::string> expired;
  const std::string prefix = Partition(p);
  {
    auto it = tx.NewPrefixIterator(kParkedCf, prefix);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      ParkedRecord held;
      if (!held.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError("parked record does not parse");
      }
      if (wall_millis - held.parked_wall_millis() < grace_millis) continue;
      ConsumedRecord original{held.topic(),      held.partition(), held.offset(),
                              held.key(),        held.value(),     -1,
                              held.traceparent()};
      trace::Scope traced(held.traceparent());
      tx.Emit(MakeDeadLetter(original,
                             absl::StrCat("account \"", held.key(),
                                          "\" unknown to kam-alerts: no event on kam.accounts.v1 "
                                          "within ",
                                          grace_millis / 1000, " s"),
                             kSource));
      expired.push_back(it->key().ToString());
      log::Warn("interaction for unknown account dead-lettered",
                {{"account_id", held.key()}, {"offset", std::to_string(held.offset())}});
    }
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan parked"));
  }
  for (const auto& key : expired) KAM_RETURN_IF_ERROR(tx.Delete(kParkedCf, key));
  return absl::OkStatus();
}

}  // namespace kam::alerts
