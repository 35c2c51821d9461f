// The daemon's single event loop: epoll for file descriptors, one timerfd
// behind any number of Timer objects, signalfd for signals. Everything the
// daemon does runs from here, one callback at a time; callbacks must not
// block.
#pragma once

#include <csignal>
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

 private:
  friend class Timer;
  using TimerKey = std::pair<TimePoint, uint64_t>;
  TimerKey add_timer(TimePoint when, std::function<void()>* callback);
  void remove_timer(const TimerKey& key);
  void arm_timerfd();
  void run_due_timers();
  void read_signals();

  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int signal_fd_ = -1;
  bool running_ = false;
  uint64_t next_timer_id_ = 0;
  std::map<TimerKey, std::function<void()>*> timers_;
  std::optional<TimePoint> armed_for_;
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

}  // namespace pgvrrpd
