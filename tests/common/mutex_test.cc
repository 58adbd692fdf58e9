#include "common/mutex.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace kam {
namespace {

// A value under a lock, as kam's classes hold their state.
struct Guarded {
  Mutex mutex;
  int value ABSL_GUARDED_BY(mutex) = 0;

  void Set(int to) {
    MutexLock lock(&mutex);
    value = to;
  }
  // Waits until value reaches `at_least`; false when `timeout` passed first.
  bool AwaitAtLeast(int at_least, absl::Duration timeout) {
    MutexLock lock(&mutex);
    auto reached = [&] {
      mutex.AssertHeld();
      return value >= at_least;
    };
    return mutex.AwaitWithTimeout(reached, timeout);
  }
};

TEST(MutexTest, AwaitWakesWhenAnotherThreadMakesTheConditionTrue) {
  Guarded guarded;
  std::thread setter([&] {
    for (int i = 1; i <= 1000; ++i) guarded.Set(i);
  });
  EXPECT_TRUE(guarded.AwaitAtLeast(1000, absl::InfiniteDuration()));
  setter.join();
}

TEST(MutexTest, AwaitWithTimeoutSaysWhenTheConditionNeverHeld) {
  Guarded guarded;
  guarded.Set(1);
  EXPECT_FALSE(guarded.AwaitAtLeast(2, absl::Milliseconds(20)));
  EXPECT_TRUE(guarded.AwaitAtLeast(1, absl::ZeroDuration()));
}

// A thread that changes the state and then waits itself releases the lock inside the wait, not
// through Unlock: the other waiters must still be woken to see the change.
TEST(MutexTest, AWaiterThatChangedTheStateWakesTheOthers) {
  Guarded arrived;
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      MutexLock lock(&arrived.mutex);
      ++arrived.value;
      auto everyone = [&] {
        arrived.mutex.AssertHeld();
        return arrived.value == kThreads;
      };
      arrived.mutex.Await(everyone);  // a barrier: no thread leaves before the last one arrived
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(arrived.AwaitAtLeast(kThreads, absl::ZeroDuration()));
}

struct SharedCounter {
  SharedMutex mutex;
  int value ABSL_GUARDED_BY(mutex) = 0;
};

TEST(MutexTest, SharedMutexLetsReadersInTogetherAndWritersAlone) {
  SharedCounter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        {
          WriterMutexLock lock(&counter.mutex);
          ++counter.value;
        }
        ReaderMutexLock lock(&counter.mutex);
        EXPECT_GT(counter.value, 0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ReaderMutexLock lock(&counter.mutex);
  EXPECT_EQ(counter.value, 2000);
}

}  // namespace
}  // namespace kam
