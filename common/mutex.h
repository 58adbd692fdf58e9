#pragma once

// kam's locks: std::mutex and std::shared_mutex with clang's thread-safety annotations, and a
// Mutex::Await in the manner of absl::Mutex (wait until a condition over guarded state holds).
//
// Why not absl::Mutex itself: Debian's libabsl is not built with ThreadSanitizer, so TSan sees no
// lock or unlock inside it and reports every access it guards as a race (tried: two threads
// incrementing a counter under absl::MutexLock, a report at once). std::mutex goes through
// pthread, which TSan intercepts. The annotations are absl's (absl/base/thread_annotations.h), so
// `clang -Wthread-safety` checks every ABSL_GUARDED_BY as it would with absl::Mutex; LevelDB's
// port::Mutex and Chromium's base::Lock wrap the platform mutex the same way.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace kam {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mutex_.lock(); }
  // Wakes the threads in Await, which look at their condition again.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    if (awaiting_ > 0) changed_.notify_all();
    mutex_.unlock();
  }
  // Tells the analysis what the caller guarantees (for conditions evaluated inside Await).
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  // Releases the lock until `condition()` holds, re-checked (under the lock) each time another
  // thread unlocks; returns with the lock held. No separate condition variable to signal: a
  // change made under the lock wakes the waiters by itself.
  template <typename Condition>
  void Await(const Condition& condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> held(mutex_, std::adopt_lock);
    BeforeWait();
    changed_.wait(held, condition);
    --awaiting_;
    held.release();
  }
  // The same, giving up at `deadline`; returns whether the condition holds.
  template <typename Condition, typename Clock, typename Duration>
  bool AwaitUntil(const Condition& condition, std::chrono::time_point<Clock, Duration> deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> held(mutex_, std::adopt_lock);
    BeforeWait();
    const bool holds = changed_.wait_until(held, deadline, condition);
    --awaiting_;
    held.release();
    return holds;
  }
  template <typename Condition>
  bool AwaitWithTimeout(const Condition& condition, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    if (timeout == absl::InfiniteDuration()) {  // now() + nanoseconds::max() would overflow
      Await(condition);
      return true;
    }
    return AwaitUntil(condition,
                      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout));
  }

 private:
  // A waiter may have changed state before it waits: the others look again too.
  void BeforeWait() {
    if (awaiting_ > 0) changed_.notify_all();
    ++awaiting_;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  int awaiting_ = 0;  // threads in Await*, under mutex_
};

// Many readers or one writer; no Await.
class ABSL_LOCKABLE SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mutex_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mutex_.unlock(); }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { mutex_.lock_shared(); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { mutex_.unlock_shared(); }

 private:
  std::shared_mutex mutex_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mutex_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mutex_;
};

// Locks `mutex` unless it is null.
class ABSL_SCOPED_LOCKABLE MutexLockMaybe {
 public:
  explicit MutexLockMaybe(Mutex* mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    if (mutex_ != nullptr) mutex_->Lock();
  }
  ~MutexLockMaybe() ABSL_UNLOCK_FUNCTION() {
    if (mutex_ != nullptr) mutex_->Unlock();
  }
  MutexLockMaybe(const MutexLockMaybe&) = delete;
  MutexLockMaybe& operator=(const MutexLockMaybe&) = delete;

 private:
  Mutex* const mutex_;
};

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex* mutex) ABSL_SHARED_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_->ReaderLock();
  }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mutex_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex* const mutex_;
};

class ABSL_SCOPED_LOCKABLE WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex* mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_->Lock();
  }
  ~WriterMutexLock() ABSL_UNLOCK_FUNCTION() { mutex_->Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex* const mutex_;
};

}  // namespace kam
