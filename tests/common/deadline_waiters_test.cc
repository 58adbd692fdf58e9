#include "common/deadline_waiters.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>

namespace kam {
namespace {

using Wake = DeadlineWaiters::Wake;
using Clock = DeadlineWaiters::Clock;

TEST(DeadlineWaitersTest, AChangeWakesEveryWaiterAndADeadlineWakesItsOwn) {
  DeadlineWaiters waiters;
  std::promise<Wake> first, second, expired;
  const uint64_t seen = waiters.generation();
  const auto far = Clock::now() + std::chrono::hours(1);
  waiters.Wait(seen, far, [&](Wake wake) { first.set_value(wake); });
  waiters.Wait(seen, far, [&](Wake wake) { second.set_value(wake); });
  waiters.Wait(seen, Clock::now(), [&](Wake wake) { expired.set_value(wake); });
  EXPECT_EQ(expired.get_future().get(), Wake::kExpired);
  EXPECT_EQ(waiters.waiting(), 2u);
  waiters.Notify();
  EXPECT_EQ(first.get_future().get(), Wake::kChanged);
  EXPECT_EQ(second.get_future().get(), Wake::kChanged);
}

TEST(DeadlineWaitersTest, AChangeBetweenLookingAndWaitingIsNotMissed) {
  DeadlineWaiters waiters;
  const uint64_t seen = waiters.generation();
  waiters.Notify();  // the change lands after the caller looked, before it waits
  std::promise<Wake> woken;
  waiters.Wait(seen, Clock::now() + std::chrono::hours(1),
               [&](Wake wake) { woken.set_value(wake); });
  EXPECT_EQ(woken.get_future().get(), Wake::kChanged);
}

TEST(DeadlineWaitersTest, AWaiterCanWaitAgainAndStoppingAnswersEveryWaiter) {
  auto owned = std::make_unique<DeadlineWaiters>();
  DeadlineWaiters* waiters = owned.get();
  std::promise<void> rewaited;
  std::promise<Wake> last;
  const auto far = Clock::now() + std::chrono::hours(1);
  waiters->Wait(waiters->generation(), far, [&](Wake) {
    // Woken by the change, it waits again (as a call whose account is still unknown does).
    waiters->Wait(waiters->generation(), far, [&](Wake wake) { last.set_value(wake); });
    rewaited.set_value();
  });
  auto answered = last.get_future();
  waiters->Notify();
  rewaited.get_future().wait();
  owned.reset();  // nobody is left without an answer
  EXPECT_EQ(answered.get(), Wake::kExpired);
}

}  // namespace
}  // namespace kam
