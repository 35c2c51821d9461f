// The daemon's single event loop: epoll for file descriptors, signalfd for
// signals, and any number of Timer objects served by epoll_pwait2's
// nanosecond timeout. A timerfd would cost two more system calls per advert
// (its read and its re-arm), a third of a 0.01 s master's idle CPU. Everything the
// daemon does runs from here, one callback at a time; callbacks must not
// block.
#pragma once

#include <csignal>
#include <ctime>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "vrrpd/result.h"
#include "vrrpd/time.h"

namespace pgvrrpd {

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t events)>;

  EventLoop() = default;
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Status open();
  // Watches `fd` for `events` (EPOLLIN...). REQUIRES: fd not already watched.
  Status watch(int fd, uint32_t events, FdCallback callback);
  void unwatch(int fd);
  // Blocks `signals` and delivers them through the loop instead.
  Status handle_signals(std::initializer_list<int> signals, std::function<void(int)> callback);

  // Runs until stop() is called from a callback.
  Status run();
  void stop() { running_ = false; }

  TimePoint now() const { return Clock::now(); }

  // A DeferredTask waits until no timer is due within this margin: long
  // enough for one blocking netlink round trip under rtnl lock contention
  // (several ms were measured), short enough to fit between 0.01 s adverts.
  static constexpr Duration kQuietMargin = std::chrono::milliseconds(5);

 private:
  friend class Timer;
  friend class DeferredTask;
  using TimerKey = std::pair<TimePoint, uint64_t>;
  TimerKey add_timer(TimePoint when, std::function<void()>* callback);
  void remove_timer(const TimerKey& key);
  // The time to the earliest timer into `out`, or nullptr when none is armed.
  const timespec* wait_timeout(timespec& out) const;
  void run_due_timers();
  void run_deferred_tasks();
  void read_signals();

  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  bool running_ = false;
  uint64_t next_timer_id_ = 0;
  std::map<TimerKey, std::function<void()>*> timers_;
  // Posted DeferredTasks by their latest time, then in posting order.
  std::map<TimerKey, std::function<void()>*> deferred_;
  std::unordered_map<int, FdCallback> fds_;
  std::function<void(int)> signal_callback_;
};

// A one-shot timer on an EventLoop. Re-arming replaces the previous deadline;
// destroying the Timer cancels it.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> callback)
      : loop_(loop), callback_(std::move(callback)), fire_([this] {
          key_.reset();
          callback_();
        }) {}
  ~Timer() { disarm(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(TimePoint when);
  void disarm();
  bool armed() const { return key_.has_value(); }

 private:
  friend class EventLoop;
  EventLoop& loop_;
  std::function<void()> callback_;
  std::optional<EventLoop::TimerKey> key_;
  std::function<void()> fire_;  // what the loop calls: clears key_, runs callback_
};

// Work that may wait a little, but not forever: it runs at the first quiet
// moment (no timer due within kQuietMargin), and at `latest` whatever the
// load. A blocking call that would delay due adverts (a VIP lease refresh
// is a netlink round trip) goes here, so that 255 routers whose leases fall
// due together refresh in the gaps between their advert bursts.
class DeferredTask {
 public:
  DeferredTask(EventLoop& loop, std::function<void()> callback)
      : loop_(loop), callback_(std::move(callback)), fire_([this] {
          key_.reset();
          callback_();
        }) {}
  ~DeferredTask() { cancel(); }
  DeferredTask(const DeferredTask&) = delete;
  DeferredTask& operator=(const DeferredTask&) = delete;

  // Posting again replaces the previous `latest`.
  void post(TimePoint latest);
  void cancel();
  bool posted() const { return key_.has_value(); }

 private:
  EventLoop& loop_;
  std::function<void()> callback_;
  std::optional<EventLoop::TimerKey> key_;
  std::function<void()> fire_;
};

}  // namespace pgvrrpd
