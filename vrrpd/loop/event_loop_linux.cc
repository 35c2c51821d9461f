#include "vrrpd/loop/event_loop_linux.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <vector>

#include "vrrpd/basics/log.h"

namespace pgvrrpd {
namespace {

int64_t ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

EventLoop::~EventLoop() {
  for (int fd : {epoll_fd_, signal_fd_})
    if (fd >= 0) close(fd);
}

Status EventLoop::open() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status::from_errno("epoll_create1");
  return Status::success();
}

Status EventLoop::watch(int fd, uint32_t events, FdCallback callback) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0)
    return Status::from_errno(fmt::format("epoll_ctl add fd {}", fd));
  fds_[fd] = std::move(callback);
  return Status::success();
}

void EventLoop::unwatch(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  fds_.erase(fd);
}

Status EventLoop::handle_signals(std::initializer_list<int> signals,
                                 std::function<void(int)> callback) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return Status::from_errno("sigprocmask");
  signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) return Status::from_errno("signalfd");
  signal_callback_ = std::move(callback);
  return watch(signal_fd_, EPOLLIN, [this](uint32_t) { read_signals(); });
}

void EventLoop::read_signals() {
  signalfd_siginfo info;
  while (read(signal_fd_, &info, sizeof info) == sizeof info) signal_callback_(info.ssi_signo);
}

std::optional<TimePoint> EventLoop::next_wakeup() const {
  std::optional<TimePoint> wake;
  if (!timers_.empty()) wake = timers_.begin()->first.first;
  // A deferred task still waiting found no quiet moment: it runs after the
  // next timer, or at its latest time.
  if (!deferred_.empty() && (!wake || deferred_.begin()->first.first < *wake))
    wake = deferred_.begin()->first.first;
  return wake;
}

const timespec* EventLoop::wait_timeout(timespec& out) const {
  auto wake = next_wakeup();
  if (!wake) return nullptr;  // sleep until an fd or a signal wakes us
  auto wait = std::max(*wake - now(), Duration::zero());
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
  out.tv_sec = ns / 1'000'000'000;
  out.tv_nsec = ns % 1'000'000'000;
  return &out;
}

void EventLoop::run_due_timers() {
  // Callbacks may arm or cancel timers, so take one due timer at a time.
  while (running_ && !timers_.empty()) {
    catch_up();
    auto it = timers_.begin();
    if (it == timers_.end() || it->first.first > now()) return;
    auto* fire = it->second;
    timers_.erase(it);
    (*fire)();
  }
}

void EventLoop::catch_up() {
  // A few rounds at most: callbacks run while catching up may be slow too,
  // and the timers must run some time.
  for (int round = 0; round < 4 && running_; ++round) {
    auto at = now();
    if (at - looked_at_ < kBlind) return;
    record_blind(looked_at_, at);
    looked_at_ = at;
    if (epoll_fd_ < 0) return;
    const timespec no_wait{};
    bool interrupted = false;
    // A failing epoll fails the next turn's wait as well, which reports it.
    if (!look(&no_wait, at, interrupted) || interrupted) return;
  }
}

void EventLoop::record_blind(TimePoint from, TimePoint to) {
  blind_.record(from, to);
  if (to - from < kBlindLogged) return;
  if (last_blind_log_ && to - *last_blind_log_ < kSlowTurnLogInterval) return;
  last_blind_log_ = to;
  log::warning("event loop: could not read its sockets for {} ms (the process was stopped, "
               "or a call blocked); reading them before any overdue timer ({} spells of {} ms or "
               "more so far)",
               ms(to - from), blind_.count(), ms(kBlind));
}

void EventLoop::run_deferred_tasks() {
  while (!deferred_.empty() && running_) {
    auto now = this->now();
    auto it = deferred_.begin();
    bool quiet = timers_.empty() || timers_.begin()->first.first - now >= kQuietMargin;
    if (!quiet && it->first.first > now) return;
    auto* fire = it->second;
    deferred_.erase(it);
    (*fire)();
  }
}

Status EventLoop::run() {
  running_ = true;
  stopped_ = false;
  looked_at_ = now();
  while (running_) {
    timespec timeout;
    if (auto s = turn(wait_timeout(timeout)); !s) return s;
  }
  return Status::success();
}

Status EventLoop::run_due() {
  if (stopped_) return Status::success();
  running_ = true;
  // A fake clock moved by a test stands for the time asleep in epoll.
  looked_at_ = now();
  if (epoll_fd_ >= 0) {
    const timespec no_wait{};
    return turn(&no_wait);
  }
  auto started = now();
  run_due_timers();
  run_deferred_tasks();
  account_turn(started);
  return Status::success();
}

void EventLoop::account_turn(TimePoint started) {
  Duration took = now() - started;
  longest_turn_ = std::max(longest_turn_, took);
  if (took < kSlowTurn) return;
  ++slow_turns_;
  auto at = now();
  if (last_slow_turn_log_ && at - *last_slow_turn_log_ < kSlowTurnLogInterval) return;
  last_slow_turn_log_ = at;
  log::warning("event loop: one turn took {} ms (adverts and timers waited that long; "
               "{} turns of {} ms or more so far, the longest {} ms)",
               ms(took), slow_turns_, ms(kSlowTurn), ms(longest_turn_));
}

Status EventLoop::turn(const timespec* timeout) {
  auto entered = now();
  // Callbacks since the last look (deferred tasks, say) kept the loop blind.
  if (entered - looked_at_ >= kBlind) record_blind(looked_at_, entered);
  std::optional<TimePoint> wake;
  if (timeout)
    wake = entered + std::chrono::seconds(timeout->tv_sec) +
           std::chrono::nanoseconds(timeout->tv_nsec);
  bool interrupted = false;
  if (auto s = look(timeout, wake, interrupted); !s) return s;
  // Woken by a signal (SIGCONT after a stop, say) with nothing read: the
  // next turn looks at the fds before any overdue timer runs.
  if (interrupted) return Status::success();
  auto started = looked_at_;
  run_due_timers();
  run_deferred_tasks();
  account_turn(started);
  return Status::success();
}

Status EventLoop::look(const timespec* timeout, std::optional<TimePoint> wake,
                       bool& interrupted) {
  std::array<epoll_event, 64> events;
  int n = epoll_pwait2(epoll_fd_, events.data(), events.size(), timeout, nullptr);
  int wait_errno = errno;
  auto returned = now();
  // Back long after the wake-up asked for: stopped, or the VM was paused.
  if (wake && returned - *wake >= kBlind) record_blind(std::max(*wake, looked_at_), returned);
  looked_at_ = returned;
  if (n < 0) {
    if (wait_errno == EINTR) {
      interrupted = true;
      return Status::success();
    }
    errno = wait_errno;
    return Status::from_errno("epoll_pwait2");
  }
  for (int i = 0; i < n && running_; ++i) {
    auto it = fds_.find(events[i].data.fd);
    // A callback earlier in this batch may have unwatched this fd.
    if (it == fds_.end()) continue;
    auto callback = it->second;  // the callback may unwatch itself
    callback(events[i].events);
  }
  return Status::success();
}

void ScheduledCallback::schedule(TimePoint when) {
  unschedule();
  EventLoop::Key key{when, loop_.next_key_++};
  queue_.emplace(key, &fire_);
  key_ = key;
}

void ScheduledCallback::unschedule() {
  if (key_) queue_.erase(*key_);
  key_.reset();
}

Status WatchedFd::adopt(int fd, std::string_view what) {
  reset();
  if (fd < 0) return Status::from_errno(std::string(what));
  fd_ = fd;
  return Status::success();
}

Status WatchedFd::watch(uint32_t events, EventLoop::FdCallback callback) {
  if (auto s = loop_.watch(fd_, events, std::move(callback)); !s) {
    reset();
    return s;
  }
  watched_ = true;
  return Status::success();
}

void WatchedFd::reset() {
  if (fd_ < 0) return;
  if (watched_) loop_.unwatch(fd_);
  close(fd_);
  fd_ = -1;
  watched_ = false;
}

}  // namespace pgvrrpd
