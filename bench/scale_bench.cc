// Scale-out benchmark helper for bench/run-scale-bench, which runs kam-alerts instances as
// processes against a throw-away broker:
//   kam-bench-scale fill --brokers B [--accounts N] [--interactions M]
//       writes the book (bench/book_fill.h) and prints the bare consumer's rate (the ceiling);
//   kam-bench-scale drain --brokers B --group G
//       waits until consumer group G has committed the end of every partition of kam.accounts.v1
//       and kam.interactions.v1 and prints the group's rate from its first commit to its last.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "bench/book_fill.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "tests/testing/alert_stream.h"
#include "tests/testing/topic_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

int64_t Sum(const std::map<std::string, int64_t>& offsets) {
  int64_t sum = 0;
  for (const auto& [partition, offset] : offsets) sum += offset;
  return sum;
}

int Drain(const std::string& brokers, const std::string& group, int timeout_seconds) {
  const std::vector<std::string> inputs = {kam::kafka_topics::kAccounts,
                                           kam::kafka_topics::kInteractions};
  int64_t total = 0;
  for (const auto& topic : inputs) {
    for (const auto& [partition, end] : kam::testing::EndOffsets(brokers, topic)) total += end;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  std::optional<std::pair<Clock::time_point, int64_t>> first;
  while (Clock::now() < deadline) {
    const int64_t committed = Sum(kam::testing::CommittedOffsets(brokers, group, inputs));
    const auto now = Clock::now();
    if (!first && committed > 0) first = {now, committed};
    if (committed >= total) {
      const double seconds = first ? std::chrono::duration<double>(now - first->first).count() : 0;
      const int64_t records = total - (first ? first->second : 0);
      std::printf("group %s: %lld input records committed; %lld of them in %.1f s after its first "
                  "commit = %.0f records/s\n",
                  group.c_str(), static_cast<long long>(total), static_cast<long long>(records),
                  seconds, seconds > 0 ? records / seconds : 0.0);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "group %s did not catch up within %d s\n", group.c_str(), timeout_seconds);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kam-bench-scale: fill a book, time a consumer group through it"};
  app.require_subcommand(1);
  std::string brokers, group;
  kam::bench::BookShape shape;
  int timeout_seconds = 900;
  auto* fill = app.add_subcommand("fill", "write the book and measure the bare consumer");
  fill->add_option("--brokers", brokers)->required();
  fill->add_option("--accounts", shape.accounts)->capture_default_str();
  fill->add_option("--interactions", shape.interactions)->capture_default_str();
  auto* drain = app.add_subcommand("drain", "wait for a group to commit every input record");
  drain->add_option("--brokers", brokers)->required();
  drain->add_option("--group", group)->required();
  drain->add_option("--timeout-seconds", timeout_seconds)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  kam::log::SetLevel(kam::log::Level::kWarn);
  if (fill->parsed()) {
    if (!kam::bench::FillBook(brokers, shape)) return 1;
    std::printf("bare librdkafka consumer (ceiling), interactions topic: %.0f records/s\n",
                kam::bench::BareConsume(brokers, kam::kafka_topics::kInteractions,
                                        shape.interactions));
    return 0;
  }
  return Drain(brokers, group, timeout_seconds);
}
