// The daemon's single event loop: epoll for file descriptors, signalfd for
// signals, and any number of Timer objects served by epoll_pwait2's
// nanosecond timeout (Linux 5.11+); a timerfd would cost two more system
// calls per advert, its read and its re-arm. Everything the daemon does runs
// from here, one callback at a time; callbacks must not block.
//
// The time comes from a LoopClock: the steady clock unless the loop is given
// another. Unit tests give a fake one and call run_due() instead of run().
#pragma once

#include <csignal>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "vrrpd/basics/result.h"
#include "vrrpd/basics/time.h"
#include "vrrpd/loop/blind_spells.h"
#include "vrrpd/loop/loop_clock.h"

namespace pgvrrpd {

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t events)>;

  // `clock` must outlive the loop.
  explicit EventLoop(const LoopClock& clock = SteadyLoopClock::instance()) : clock_(clock) {}
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
  void stop() {
    running_ = false;
    stopped_ = true;
  }

  // One turn of run() that never waits: the callbacks of the fds already
  // readable (only once open() was called; none otherwise), then the timers
  // due at now(), then the deferred tasks that may run. For tests with a
  // fake clock, which move it to next_wakeup() and call this; running()
  // then says whether a callback called stop(). Once one has, run_due()
  // does nothing, as run() would have returned. Fails only as run() would.
  Status run_due();
  // Between the start of run() or run_due() and a stop().
  bool running() const { return running_; }
  // The earliest time a timer or a deferred task wants the loop awake;
  // nullopt when only an fd or a signal can wake it.
  std::optional<TimePoint> next_wakeup() const;

  TimePoint now() const { return clock_.now(); }

  // The loop's worst stall: how long one turn's callbacks took (adverts,
  // timers and signals wait meanwhile). A turn of kSlowTurn or more is
  // counted and logged (at most every kSlowTurnLogInterval).
  static constexpr Duration kSlowTurn = std::chrono::milliseconds(50);
  static constexpr Duration kSlowTurnLogInterval = std::chrono::seconds(10);
  Duration longest_turn() const { return longest_turn_; }
  uint64_t slow_turns() const { return slow_turns_; }

  // The loop is blind while it cannot look at its fds: in callbacks, or
  // stopped anywhere but asleep in epoll (SIGSTOP, a paused VM). A spell of
  // kBlind or more is recorded, and before a timer runs after one the loop
  // looks at its fds again: a timeout must not fire for want of an advert
  // that came while the loop could not read it.
  static constexpr Duration kBlind = std::chrono::milliseconds(50);
  // A spell this long is logged (at most every kSlowTurnLogInterval).
  static constexpr Duration kBlindLogged = std::chrono::milliseconds(500);
  // How much of [since, now()] the loop spent blind (spells of kBlind or more).
  Duration blind_since(TimePoint since) const { return blind_.within(since, now()); }
  const BlindSpells& blind_spells() const { return blind_; }

  // A DeferredTask waits until no timer is due within this margin: long
  // enough for one blocking netlink round trip under rtnl lock contention
  // (several ms were measured), short enough to fit between 0.01 s adverts.
  static constexpr Duration kQuietMargin = std::chrono::milliseconds(5);

 private:
  friend class ScheduledCallback;
  friend class Timer;
  friend class DeferredTask;
  using Key = std::pair<TimePoint, uint64_t>;  // when, then in the order scheduled
  using Queue = std::map<Key, std::function<void()>*>;
  // The time to the earliest wake-up into `out`, or nullptr when none is due.
  const timespec* wait_timeout(timespec& out) const;
  // One turn: waits in epoll_pwait2 up to `timeout` (nullptr: forever),
  // then runs the ready fds' callbacks, the due timers, the deferred tasks.
  Status turn(const timespec* timeout);
  // Waits in epoll_pwait2 up to `timeout`, which should end at `wake`, then
  // runs the ready fds' callbacks. Sets `interrupted` on EINTR (nothing run).
  Status look(const timespec* timeout, std::optional<TimePoint> wake, bool& interrupted);
  // After a blind spell: records it, and looks at the fds without waiting.
  void catch_up();
  void record_blind(TimePoint from, TimePoint to);
  void run_due_timers();
  void account_turn(TimePoint started);
  void run_deferred_tasks();
  void read_signals();

  const LoopClock& clock_;
  BlindSpells blind_;
  TimePoint looked_at_{};  // when the loop last looked at its fds
  Duration longest_turn_{};
  uint64_t slow_turns_ = 0;
  std::optional<TimePoint> last_slow_turn_log_;
  std::optional<TimePoint> last_blind_log_;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  bool running_ = false;
  bool stopped_ = false;  // stop() was called since run() last started
  uint64_t next_key_ = 0;
  Queue timers_;    // armed Timers, by deadline
  Queue deferred_;  // posted DeferredTasks, by latest time
  std::unordered_map<int, FdCallback> fds_;
  std::function<void(int)> signal_callback_;
};

// A callback in one of the loop's queues, keyed by a time; it leaves the
// queue when it runs, is scheduled anew, or is destroyed.
class ScheduledCallback {
 public:
  ScheduledCallback(const ScheduledCallback&) = delete;
  ScheduledCallback& operator=(const ScheduledCallback&) = delete;

 protected:
  ScheduledCallback(EventLoop& loop, EventLoop::Queue& queue, std::function<void()> callback)
      : loop_(loop), queue_(queue), callback_(std::move(callback)), fire_([this] {
          key_.reset();
          callback_();
        }) {}
  ~ScheduledCallback() { unschedule(); }

  void schedule(TimePoint when);
  void unschedule();
  bool scheduled() const { return key_.has_value(); }

 private:
  EventLoop& loop_;
  EventLoop::Queue& queue_;
  std::function<void()> callback_;
  std::optional<EventLoop::Key> key_;
  std::function<void()> fire_;  // what the loop calls: clears key_, runs callback_
};

// A one-shot timer on an EventLoop. Re-arming replaces the previous deadline;
// destroying the Timer cancels it.
class Timer : private ScheduledCallback {
 public:
  Timer(EventLoop& loop, std::function<void()> callback)
      : ScheduledCallback(loop, loop.timers_, std::move(callback)) {}

  void arm(TimePoint when) { schedule(when); }
  void disarm() { unschedule(); }
  bool armed() const { return scheduled(); }
};

// Work that may wait a little, but not forever: it runs at the first quiet
// moment (no timer due within kQuietMargin), and at `latest` whatever the
// load. A blocking call that would delay due adverts (a VIP lease refresh
// is a netlink round trip) goes here, so that 255 routers whose leases fall
// due together refresh in the gaps between their advert bursts.
class DeferredTask : private ScheduledCallback {
 public:
  DeferredTask(EventLoop& loop, std::function<void()> callback)
      : ScheduledCallback(loop, loop.deferred_, std::move(callback)) {}

  // Posting again replaces the previous `latest`.
  void post(TimePoint latest) { schedule(latest); }
  void cancel() { unschedule(); }
  bool posted() const { return scheduled(); }
};

// A file descriptor this object owns and the loop watches: closed on every
// error path of its setup and unwatched and closed when destroyed, so a
// checker's socket cannot outlive it or leak on a failed open.
class WatchedFd {
 public:
  explicit WatchedFd(EventLoop& loop) : loop_(loop) {}
  ~WatchedFd() { reset(); }
  WatchedFd(const WatchedFd&) = delete;
  WatchedFd& operator=(const WatchedFd&) = delete;

  // Takes ownership of `fd` (a new socket, or -1 after a failed socket()
  // call: an error naming `what` with errno). Nothing is watched yet.
  Status adopt(int fd, std::string_view what);
  // Watches the adopted fd; on failure the fd is closed.
  Status watch(uint32_t events, EventLoop::FdCallback callback);
  // Unwatches (if watched) and closes; the object can adopt again.
  void reset();

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }

 private:
  EventLoop& loop_;
  int fd_ = -1;
  bool watched_ = false;
};

}  // namespace pgvrrpd
