#include "common/deadline_waiters.h"

#include <vector>

namespace kam {

DeadlineWaiters::DeadlineWaiters() : thread_([this] { Run(); }) {}

DeadlineWaiters::~DeadlineWaiters() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

uint64_t DeadlineWaiters::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

void DeadlineWaiters::Wait(uint64_t seen_generation, Clock::time_point deadline,
                           Callback callback) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Something changed since the caller looked: it looks again at once.
    auto& into = seen_generation != generation_ ? changed_ : waiters_;
    into.emplace(deadline, std::move(callback));
  }
  wake_.notify_all();
}

void DeadlineWaiters::Notify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    changed_.merge(waiters_);
  }
  wake_.notify_all();
}

size_t DeadlineWaiters::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiters_.size() + changed_.size();
}

void DeadlineWaiters::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    std::vector<std::pair<Wake, Callback>> due;
    if (stopping_) {
      for (auto& [deadline, callback] : changed_) due.emplace_back(Wake::kExpired, std::move(callback));
      for (auto& [deadline, callback] : waiters_) due.emplace_back(Wake::kExpired, std::move(callback));
      changed_.clear();
      waiters_.clear();
    } else {
      for (auto& [deadline, callback] : changed_) due.emplace_back(Wake::kChanged, std::move(callback));
      changed_.clear();
      const auto now = Clock::now();
      while (!waiters_.empty() && waiters_.begin()->first <= now) {
        due.emplace_back(Wake::kExpired, std::move(waiters_.begin()->second));
        waiters_.erase(waiters_.begin());
      }
    }
    if (!due.empty()) {
      // Unlocked: a callback may wait again.
      lock.unlock();
      for (auto& [wake, callback] : due) callback(wake);
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (waiters_.empty()) {
      wake_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stopping_ || !changed_.empty() || !waiters_.empty();
      });
    } else {
      wake_.wait_until(lock, waiters_.begin()->first);
    }
  }
}

}  // namespace kam
