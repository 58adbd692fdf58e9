#pragma once

// Reads a topic back the way an operator with kcat would: every partition from the beginning up
// to the end as it is when called. For tests that check what a service published.

#include <map>
#include <string>
#include <vector>

namespace kam::testing {

struct TopicRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// All records of `topic` present now; empty on error (the test then fails on content).
std::vector<TopicRecord> ReadTopic(const std::string& brokers, const std::string& topic);

// Writes `records` (key, value) to one partition of `topic` in order and waits for every
// delivery report; false when any failed.
bool ProduceRecords(const std::string& brokers, const std::string& topic, int32_t partition,
                    const std::vector<std::pair<std::string, std::string>>& records);

// The end offset of every partition of `topic` (empty on error).
std::map<int32_t, int64_t> EndOffsets(const std::string& brokers, const std::string& topic);

}  // namespace kam::testing
