#include "common/deadline_waiters.h"

#include <vector>

namespace kam {

DeadlineWaiters::DeadlineWaiters() : thread_([this] { Run(); }) {}

DeadlineWaiters::~DeadlineWaiters() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
    ++news_;
  }
  thread_.join();
}

uint64_t DeadlineWaiters::generation() const {
  MutexLock lock(&mutex_);
  return generation_;
}

void DeadlineWaiters::Wait(uint64_t seen_generation, Clock::time_point deadline,
                           Callback callback) {
  {
    MutexLock lock(&mutex_);
    // Something changed since the caller looked: it looks again at once.
    auto& into = seen_generation != generation_ ? changed_ : waiters_;
    into.emplace(deadline, std::move(callback));
    ++news_;
  }
}

void DeadlineWaiters::Notify() {
  {
    MutexLock lock(&mutex_);
    ++generation_;
    changed_.merge(waiters_);
    ++news_;
  }
}

size_t DeadlineWaiters::waiting() const {
  MutexLock lock(&mutex_);
  return waiters_.size() + changed_.size();
}

void DeadlineWaiters::Run() {
  mutex_.Lock();
  while (true) {
    std::vector<std::pair<Wake, Callback>> due;
    if (stopping_) {
      for (auto& [deadline, callback] : changed_)
        due.emplace_back(Wake::kExpired, std::move(callback));
      for (auto& [deadline, callback] : waiters_)
        due.emplace_back(Wake::kExpired, std::move(callback));
      changed_.clear();
      waiters_.clear();
    } else {
      for (auto& [deadline, callback] : changed_)
        due.emplace_back(Wake::kChanged, std::move(callback));
      changed_.clear();
      const auto now = Clock::now();
      while (!waiters_.empty() && waiters_.begin()->first <= now) {
        due.emplace_back(Wake::kExpired, std::move(waiters_.begin()->second));
        waiters_.erase(waiters_.begin());
      }
    }
    if (!due.empty()) {
      // Unlocked: a callback may wait again.
      mutex_.Unlock();
      for (auto& [wake, callback] : due) callback(wake);
      mutex_.Lock();
      continue;
    }
    if (stopping_) break;
    const uint64_t seen = news_;
    auto news = [this, seen] {
      mutex_.AssertHeld();
      return news_ != seen;
    };
    if (waiters_.empty()) {
      mutex_.Await(news);
    } else {
      mutex_.AwaitUntil(news, waiters_.begin()->first);
    }
  }
  mutex_.Unlock();
}

}  // namespace kam
