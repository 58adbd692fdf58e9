#pragma once

// The benchmarks' book: `accounts` AccountCreated and `interactions` InteractionRecorded envelopes
// (half survey answers, half calls, a year of weekly event times), written to partitions 0..2 of
// kam.accounts.v1 and kam.interactions.v1 on a real broker. Shared by the stream and scale
// benchmarks so that their figures are comparable.

#include <string>

namespace kam::bench {

struct BookShape {
  int accounts = 2000;
  int interactions = 100000;
  // Every answer unrelated to the last (alerts churn) instead of steady accounts and one in 20
  // sliding over the year.
  bool noisy = false;
};

// Creates the platform topics (3 partitions) and writes the book; false (with a message on
// stderr) when that fails. Prints how long the fill took.
bool FillBook(const std::string& brokers, const BookShape& shape);

// Events/s of a bare librdkafka consumer reading `expected` records of `topic` from the
// beginning: the ceiling the benchmarks compare with.
double BareConsume(const std::string& brokers, const std::string& topic, int64_t expected);

}  // namespace kam::bench
