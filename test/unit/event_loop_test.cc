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
