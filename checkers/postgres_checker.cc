#include "checkers/postgres_checker.h"

#include <utility>

#include "vrrpd/basics/log.h"

namespace pgvrrpd::checkers {

PostgresChecker::PostgresChecker(EventLoop& loop, std::string name, PostgresCheckParams params,
                                 PgConnectionFactory factory)
    : Checker(std::move(name)),
      loop_(loop),
      monitor_(params, factory),
      timer_(loop,
             [this] {
               monitor_.on_timer(loop_.now());
               settings_.link().on_timer(loop_.now());
               sync();
             }),
      settings_(std::move(factory), params.conninfo, params.timeout) {
  monitor_.set_listeners(
      [this](bool passing, const std::string& reason) {
        log::info("check {}: postgres {}: {}", this->name(), passing ? "passing" : "failing", reason);
        report(passing, reason);
      },
      [this](const PgFacts& facts, uint32_t changed) {
        if (changed & kChangePeerAlive) {
          if (facts.peer_alive)
            log::info("check {}: peer postgres answering as {}", this->name(), to_string(facts.peer_role()));
          else
            log::info("check {}: peer postgres unreachable: {}", this->name(), facts.peer_error);
        }
        if (facts_listener_) facts_listener_(facts, changed);
      });
  monitor_.local().set_on_closing([this](int fd) { closing(local_watch_, fd); });
  if (PgLink* peer = monitor_.peer()) peer->set_on_closing([this](int fd) { closing(peer_watch_, fd); });
  settings_.link().set_on_closing([this](int fd) { closing(settings_watch_, fd); });
  auto blind = [this](TimePoint since) { return loop_.blind_since(since); };
  monitor_.local().set_blind_meter(blind);
  if (PgLink* peer = monitor_.peer()) peer->set_blind_meter(blind);
}

PostgresChecker::~PostgresChecker() { stop(); }

void PostgresChecker::start() {
  monitor_.start(loop_.now());
  sync();
}

void PostgresChecker::stop() {
  monitor_.stop();
  settings_.stop();
  sync();
}

void PostgresChecker::change_settings(std::vector<std::string> statements,
                                      PgSettings::Done done) {
  settings_.run(std::move(statements), loop_.now(),
                [this, done = std::move(done)](const Status& status, TimePoint now) {
                  // Read the result back at once: the caller judges by facts.
                  monitor_.poll_now(now);
                  if (done) done(status, now);
                });
  sync();
}

void PostgresChecker::open_settings() {
  settings_.open(loop_.now());
  sync();
}

void PostgresChecker::poll_now() {
  monitor_.poll_now(loop_.now());
  sync();
}

void PostgresChecker::set_fast_poll(bool on) {
  monitor_.set_fast_poll(on, loop_.now());
  sync();
}

// The link is about to close fd: stop watching it while the number is ours
// (a listener could otherwise get the same number and lose its watch to us).
void PostgresChecker::closing(Watched& watched, int fd) {
  if (watched.fd != fd) return;
  loop_.unwatch(fd);
  watched = {};
}

void PostgresChecker::sync_link(PgLink& link, Watched& watched) {
  PgLink::Want want = link.want();
  if (want.fd == watched.fd && want.events == watched.events && want.generation == watched.generation)
    return;
  if (watched.fd >= 0) loop_.unwatch(watched.fd);
  watched = {};
  if (want.fd < 0 || !want.events) return;
  Status s = loop_.watch(want.fd, want.events, [this, &link](uint32_t events) {
    link.on_socket(events, loop_.now());
    sync();
  });
  // Not fatal: the link's timeout fails and reconnects it.
  if (!s) {
    log::warning("check {}: postgres {}: {}", name(), link.what(), s.message());
    return;
  }
  watched = {want.fd, want.events, want.generation};
}

void PostgresChecker::sync() {
  sync_link(monitor_.local(), local_watch_);
  if (PgLink* peer = monitor_.peer()) sync_link(*peer, peer_watch_);
  sync_link(settings_.link(), settings_watch_);
  std::optional<TimePoint> when = monitor_.next_deadline();
  if (auto settings = settings_.link().next_deadline())
    when = when ? std::min(*when, *settings) : *settings;
  if (when)
    timer_.arm(*when);
  else
    timer_.disarm();
}

}  // namespace pgvrrpd::checkers
