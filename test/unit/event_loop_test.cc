// The event loop's timers, which wait in epoll_pwait2's timeout: they fire
// in deadline order, never early, and a callback may arm or cancel others.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include <string>
#include <vector>

#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/loop/loop_clock.h"
#include "log_capture.h"

using namespace pgvrrpd;
using namespace std::chrono_literals;

TEST_CASE("event loop: timers fire in deadline order and never before their deadline") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  std::vector<int> fired;
  std::vector<bool> on_time;
  auto t0 = loop.now();
  Timer late(loop, [&] {
    fired.push_back(2);
    on_time.push_back(loop.now() >= t0 + 30ms);
    loop.stop();
  });
  Timer early(loop, [&] {
    fired.push_back(1);
    on_time.push_back(loop.now() >= t0 + 10ms);
  });
  late.arm(t0 + 30ms);
  early.arm(t0 + 10ms);
  REQUIRE(loop.run().is_ok());
  CHECK(fired == std::vector<int>{1, 2});
  CHECK(on_time == std::vector<bool>{true, true});
}

TEST_CASE("event loop: a callback re-arms its own timer and cancels another") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  int ticks = 0;
  bool cancelled_fired = false;
  Timer cancelled(loop, [&] { cancelled_fired = true; });
  Timer* self = nullptr;
  Timer periodic(loop, [&] {
    if (++ticks == 1) cancelled.disarm();
    if (ticks == 3) return loop.stop();
    self->arm(loop.now() + 1ms);
  });
  self = &periodic;
  periodic.arm(loop.now());
  cancelled.arm(loop.now() + 2ms);
  REQUIRE(loop.run().is_ok());
  CHECK(ticks == 3);
  CHECK_FALSE(cancelled_fired);
}

TEST_CASE("event loop: fd events and timers are served by the same wait") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  bool readable = false;
  REQUIRE(loop.watch(fds[0], EPOLLIN, [&](uint32_t) {
                char c;
                CHECK(read(fds[0], &c, 1) == 1);
                readable = true;
              }).is_ok());
  Timer write_later(loop, [&] { CHECK(write(fds[1], "x", 1) == 1); });
  Timer stop(loop, [&] { loop.stop(); });
  write_later.arm(loop.now() + 5ms);
  stop.arm(loop.now() + 20ms);
  REQUIRE(loop.run().is_ok());
  CHECK(readable);
  loop.unwatch(fds[0]);
  close(fds[0]);
  close(fds[1]);
}

TEST_CASE("deferred task: waits for a timer due within the quiet margin, then runs") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  std::vector<std::string> order;
  Timer soon(loop, [&] { order.push_back("timer"); });
  DeferredTask task(loop, [&] {
    order.push_back("task");
    loop.stop();
  });
  Timer start(loop, [&] {
    soon.arm(loop.now() + EventLoop::kQuietMargin / 2);
    task.post(loop.now() + 1s);
  });
  start.arm(loop.now());
  REQUIRE(loop.run().is_ok());
  CHECK(order == std::vector<std::string>{"timer", "task"});
}

TEST_CASE("deferred task: runs at its latest time when the loop is never quiet") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  Timer* self = nullptr;
  Timer busy(loop, [&] { self->arm(loop.now() + 1ms); });  // always due within the margin
  self = &busy;
  TimePoint latest{};
  TimePoint ran{};
  DeferredTask task(loop, [&] {
    ran = loop.now();
    loop.stop();
  });
  busy.arm(loop.now());
  latest = loop.now() + 30ms;
  task.post(latest);
  REQUIRE(loop.run().is_ok());
  CHECK(ran >= latest);
}

TEST_CASE("deferred task: a cancelled task never runs") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  bool ran = false;
  DeferredTask task(loop, [&] { ran = true; });
  Timer stop(loop, [&] { loop.stop(); });
  task.post(loop.now() + 1ms);
  CHECK(task.posted());
  task.cancel();
  CHECK_FALSE(task.posted());
  stop.arm(loop.now() + 10ms);
  REQUIRE(loop.run().is_ok());
  CHECK_FALSE(ran);
}

TEST_CASE("watched fd: closed and unwatched when destroyed, so its number can be watched anew") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  int number;
  {
    WatchedFd fd(loop);
    REQUIRE(fd.adopt(eventfd(0, EFD_CLOEXEC), "eventfd").is_ok());
    REQUIRE(fd.watch(EPOLLIN, [](uint32_t) {}).is_ok());
    number = fd.get();
  }
  CHECK(fcntl(number, F_GETFD) == -1);  // closed
  WatchedFd again(loop);
  REQUIRE(again.adopt(eventfd(0, EFD_CLOEXEC), "eventfd").is_ok());
  CHECK(again.get() == number);  // the lowest free number, reused
  CHECK(again.watch(EPOLLIN, [](uint32_t) {}).is_ok());
}

TEST_CASE("watched fd: a failed socket() is an error naming what failed, and nothing is owned") {
  EventLoop loop;
  REQUIRE(loop.open().is_ok());
  WatchedFd fd(loop);
  errno = EMFILE;
  auto s = fd.adopt(-1, "cannot open an ICMP socket");
  CHECK_FALSE(s.is_ok());
  CHECK(s.message().find("cannot open an ICMP socket") != std::string::npos);
  CHECK_FALSE(fd.open());
}

// The clock seam the wiring tests use: a loop on a fake clock, driven by
// run_due() instead of run().

namespace {
class ManualClock final : public LoopClock {
 public:
  TimePoint now() const override { return now_; }
  TimePoint now_ = TimePoint(std::chrono::hours(1));
};
}  // namespace

TEST_CASE("event loop: on a fake clock run_due fires the timers due then, and only those") {
  ManualClock clock;
  EventLoop loop(clock);  // never opened
  auto t0 = clock.now();
  std::vector<std::string> fired;
  Timer first(loop, [&] { fired.push_back("first"); });
  Timer second(loop, [&] {
    fired.push_back("second");
    loop.stop();
  });
  second.arm(t0 + 20ms);
  first.arm(t0 + 10ms);
  CHECK(loop.now() == t0);
  CHECK(loop.next_wakeup() == t0 + 10ms);

  REQUIRE(loop.run_due().is_ok());
  CHECK(fired.empty());
  clock.now_ = t0 + 10ms;
  REQUIRE(loop.run_due().is_ok());
  CHECK(fired == std::vector<std::string>{"first"});
  CHECK(loop.running());
  CHECK(loop.next_wakeup() == t0 + 20ms);

  clock.now_ = t0 + 25ms;
  REQUIRE(loop.run_due().is_ok());
  CHECK(fired == std::vector<std::string>{"first", "second"});
  CHECK_FALSE(loop.running());  // the callback called stop()
  CHECK_FALSE(loop.next_wakeup());
}

TEST_CASE("event loop: on a fake clock a deferred task waits for a quiet moment, or its latest") {
  ManualClock clock;
  EventLoop loop(clock);
  auto t0 = clock.now();
  int ran = 0;
  Timer soon(loop, [] {});
  DeferredTask task(loop, [&] { ++ran; });
  soon.arm(t0 + EventLoop::kQuietMargin / 2);
  task.post(t0 + 1s);
  REQUIRE(loop.run_due().is_ok());
  CHECK(ran == 0);  // a timer is due within the margin
  CHECK(loop.next_wakeup() == t0 + EventLoop::kQuietMargin / 2);
  clock.now_ = t0 + EventLoop::kQuietMargin / 2;
  REQUIRE(loop.run_due().is_ok());
  CHECK(ran == 1);  // after the timer, quiet

  Timer* self = nullptr;
  Timer busy(loop, [&] { self->arm(loop.now() + 1ms); });
  self = &busy;
  busy.arm(clock.now_);
  task.post(clock.now_ + 3ms);
  auto latest = clock.now_ + 3ms;
  while (ran == 1) {
    REQUIRE(loop.next_wakeup());
    clock.now_ = *loop.next_wakeup();
    REQUIRE(loop.run_due().is_ok());
  }
  CHECK(clock.now_ == latest);  // never quiet: at its latest time
}

TEST_CASE("event loop: once open, run_due also serves the fds already readable, without waiting") {
  ManualClock clock;
  EventLoop loop(clock);
  REQUIRE(loop.open().is_ok());
  WatchedFd fd(loop);
  REQUIRE(fd.adopt(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd").is_ok());
  int calls = 0;
  REQUIRE(fd.watch(EPOLLIN, [&](uint32_t) {
                uint64_t value;
                CHECK(read(fd.get(), &value, sizeof value) == sizeof value);
                ++calls;
              }).is_ok());
  REQUIRE(loop.run_due().is_ok());  // nothing readable: returns at once
  CHECK(calls == 0);
  uint64_t one = 1;
  REQUIRE(write(fd.get(), &one, sizeof one) == sizeof one);
  REQUIRE(loop.run_due().is_ok());
  CHECK(calls == 1);
}

TEST_CASE("event loop: a slow turn is measured, counted and logged at most every 10 s") {
  pgvrrpd::testing::LogCapture log;
  ManualClock clock;
  EventLoop loop(clock);
  auto t0 = clock.now();
  Duration work = 5ms;
  Timer busy(loop, [&] { clock.now_ += work; });
  auto turn_at = [&](TimePoint at) {
    clock.now_ = at;
    busy.arm(at);
    REQUIRE(loop.run_due().is_ok());
  };
  turn_at(t0 + 1s);
  CHECK(loop.longest_turn() == 5ms);
  CHECK(loop.slow_turns() == 0);
  work = 120ms;  // a blocking call in a callback
  turn_at(t0 + 2s);
  CHECK(loop.longest_turn() == 120ms);
  CHECK(loop.slow_turns() == 1);
  CHECK(log.count("event loop: one turn took 120 ms (adverts and timers waited that long; 1 "
                  "turns of 50 ms or more so far, the longest 120 ms)") == 1);
  work = 60ms;
  turn_at(t0 + 5s);  // counted, not logged again within 10 s
  CHECK(loop.slow_turns() == 2);
  CHECK(loop.longest_turn() == 120ms);
  CHECK(log.count("event loop: one turn took") == 1);
  turn_at(t0 + 13s);
  CHECK(log.count("event loop: one turn took 60 ms") == 1);
}

TEST_CASE("blind spells: the part of an interval the loop spent blind, the oldest forgotten") {
  BlindSpells spells;
  auto t0 = TimePoint(std::chrono::hours(1));
  spells.record(t0 + 1s, t0 + 3s);
  spells.record(t0 + 5s, t0 + 5s);  // empty: not a spell
  spells.record(t0 + 6s, t0 + 6500ms);
  CHECK(spells.count() == 2);
  CHECK(spells.total() == 2500ms);
  CHECK(spells.within(t0, t0 + 10s) == 2500ms);
  CHECK(spells.within(t0 + 2s, t0 + 10s) == 1500ms);  // overlaps count in part
  CHECK(spells.within(t0 + 2s, t0 + 6200ms) == 1200ms);
  CHECK(spells.within(t0 + 4s, t0 + 5s) == 0ms);
  for (int i = 0; i < int(BlindSpells::kKept); ++i)
    spells.record(t0 + 10s + i * 1s, t0 + 10s + i * 1s + 100ms);
  CHECK(spells.within(t0, t0 + 60s) == BlindSpells::kKept * 100ms);  // the first two forgotten
  CHECK(spells.total() == 2500ms + BlindSpells::kKept * 100ms);
}

TEST_CASE("event loop: after a blind spell the fds are read before an overdue timer runs") {
  // The chaos soak's split brain: the daemon, stopped in the middle of a
  // turn, finished it on resuming and ran the master down timer before it
  // read the adverts that had come meanwhile.
  pgvrrpd::testing::LogCapture log;
  ManualClock clock;
  EventLoop loop(clock);
  REQUIRE(loop.open().is_ok());
  auto t0 = clock.now();
  WatchedFd busy(loop), advert(loop);
  REQUIRE(busy.adopt(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd").is_ok());
  REQUIRE(advert.adopt(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd").is_ok());
  std::vector<std::string> order;
  uint64_t one = 1, value;
  REQUIRE(busy.watch(EPOLLIN, [&](uint32_t) {
                CHECK(read(busy.get(), &value, sizeof value) == sizeof value);
                order.push_back("busy");
                clock.now_ += 3s;  // stopped here for 3 s...
                // ...while an advert came in.
                REQUIRE(write(advert.get(), &one, sizeof one) == sizeof one);
              }).is_ok());
  REQUIRE(advert.watch(EPOLLIN, [&](uint32_t) {
                CHECK(read(advert.get(), &value, sizeof value) == sizeof value);
                order.push_back("advert");
              }).is_ok());
  Timer master_down(loop, [&] { order.push_back("master down"); });
  master_down.arm(t0 + 1s);
  REQUIRE(write(busy.get(), &one, sizeof one) == sizeof one);
  REQUIRE(loop.run_due().is_ok());
  CHECK(order == std::vector<std::string>{"busy", "advert", "master down"});
  CHECK(loop.blind_spells().count() == 1);
  CHECK(loop.blind_since(t0) == 3s);
  CHECK(loop.blind_since(t0 + 2s) == 1s);
  CHECK(log.count("event loop: could not read its sockets for 3000 ms (the process was stopped, "
                  "or a call blocked); reading them before any overdue timer (1 spells of 50 ms "
                  "or more so far)") == 1);
}

TEST_CASE("event loop: turns shorter than the blind threshold are not blind spells") {
  ManualClock clock;
  EventLoop loop(clock);
  REQUIRE(loop.open().is_ok());
  auto t0 = clock.now();
  Timer work(loop, [&] { clock.now_ += EventLoop::kBlind - 1ms; });
  for (int i = 1; i <= 5; ++i) {
    clock.now_ = t0 + i * 1s;
    work.arm(clock.now_);
    REQUIRE(loop.run_due().is_ok());
  }
  CHECK(loop.blind_spells().count() == 0);
  CHECK(loop.blind_since(t0) == 0ms);
}
