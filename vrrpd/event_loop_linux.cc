#include "vrrpd/event_loop_linux.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <vector>

namespace pgvrrpd {

EventLoop::~EventLoop() {
  for (int fd : {epoll_fd_, timer_fd_, signal_fd_})
    if (fd >= 0) close(fd);
}

Status EventLoop::open() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status::from_errno("epoll_create1");
  // CLOCK_MONOTONIC is what std::chrono::steady_clock reads on Linux, so
  // deadlines from the core can be armed as absolute times.
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (timer_fd_ < 0) return Status::from_errno("timerfd_create");
  return watch(timer_fd_, EPOLLIN, [this](uint32_t) { run_due_timers(); });
}

Status EventLoop::watch(int fd, uint32_t events, FdCallback callback) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0)
    return Status::from_errno(fmt::format("epoll_ctl add fd {}", fd));
  fds_[fd] = std::move(callback);
  return Status::ok();
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

EventLoop::TimerKey EventLoop::add_timer(TimePoint when, std::function<void()>* callback) {
  TimerKey key{when, next_timer_id_++};
  timers_.emplace(key, callback);
  return key;
}

void EventLoop::remove_timer(const TimerKey& key) { timers_.erase(key); }

void EventLoop::arm_timerfd() {
  std::optional<TimePoint> want;
  if (!timers_.empty()) want = timers_.begin()->first.first;
  if (want == armed_for_) return;
  armed_for_ = want;
  itimerspec spec{};
  if (want) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(want->time_since_epoch()).count();
    // A zero it_value would disarm; a deadline at the epoch is long past anyway.
    if (ns <= 0) ns = 1;
    spec.it_value.tv_sec = ns / 1'000'000'000;
    spec.it_value.tv_nsec = ns % 1'000'000'000;
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void EventLoop::run_due_timers() {
  uint64_t expirations;
  [[maybe_unused]] auto n = read(timer_fd_, &expirations, sizeof expirations);
  armed_for_.reset();
  auto now = Clock::now();
  // Callbacks may arm or cancel timers, so take one due timer at a time.
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto it = timers_.begin();
    auto* fire = it->second;
    timers_.erase(it);
    (*fire)();
  }
}

Status EventLoop::run() {
  running_ = true;
  std::array<epoll_event, 64> events;
  while (running_) {
    arm_timerfd();
    int n = epoll_wait(epoll_fd_, events.data(), events.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("epoll_wait");
    }
    for (int i = 0; i < n && running_; ++i) {
      auto it = fds_.find(events[i].data.fd);
      // A callback earlier in this batch may have unwatched this fd.
      if (it == fds_.end()) continue;
      auto callback = it->second;  // the callback may unwatch itself
      callback(events[i].events);
    }
  }
  return Status::ok();
}

void Timer::arm(TimePoint when) {
  disarm();
  key_ = loop_.add_timer(when, &fire_);
}

void Timer::disarm() {
  if (key_) loop_.remove_timer(*key_);
  key_.reset();
}

}  // namespace pgvrrpd
