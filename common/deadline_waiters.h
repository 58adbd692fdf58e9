#pragma once

// Callbacks waiting for something to change, each with a deadline, run on a thread of their own
// so that whoever waits never blocks a gRPC callback thread (the callback API's rule: reactions
// are fast and never block). Notify() wakes every waiter with kChanged -- it looks again and may
// wait again -- and a deadline that passes wakes its waiter with kExpired. A waiter passes the
// generation it read before it looked, so a change between its look and its Wait is not missed.
//
// Used by kam-interactions for calls that name an account created moments ago: the call waits
// for the account to reach the replica without holding a thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace kam {

class DeadlineWaiters {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Wake { kChanged, kExpired };
  using Callback = std::function<void(Wake)>;

  DeadlineWaiters();
  // Wakes every remaining waiter with kExpired, then stops the thread.
  ~DeadlineWaiters();
  DeadlineWaiters(const DeadlineWaiters&) = delete;
  DeadlineWaiters& operator=(const DeadlineWaiters&) = delete;

  // Counts Notify() calls; read it before looking at what you wait for.
  uint64_t generation() const;
  // Runs `callback` on the waiters' thread: with kChanged after the next Notify() (at once if one
  // came since `seen_generation`), or with kExpired at `deadline`. It must not block.
  void Wait(uint64_t seen_generation, Clock::time_point deadline, Callback callback);
  void Notify();
  size_t waiting() const;

 private:
  void Run();

  mutable Mutex mutex_;
  std::multimap<Clock::time_point, Callback> waiters_ ABSL_GUARDED_BY(mutex_);
  std::multimap<Clock::time_point, Callback> changed_ ABSL_GUARDED_BY(mutex_);
  uint64_t generation_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  // Bumped by every call that gives the thread something new to look at.
  uint64_t news_ ABSL_GUARDED_BY(mutex_) = 0;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace kam
