#include "checkers/pg_link.h"

#include <sys/epoll.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "vrrpd/basics/log.h"

namespace pgvrrpd::checkers {
namespace {

int64_t ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

PgLink::PgLink(std::string what, PgConnectionFactory factory, std::string conninfo,
               std::string query, PgLinkTiming timing)
    : what_(std::move(what)),
      factory_(std::move(factory)),
      conninfo_(std::move(conninfo)),
      query_(std::move(query)),
      timing_(timing),
      backoff_(timing.retry_min) {}

void PgLink::set_callbacks(ResultFn on_result, FailureFn on_failure) {
  on_result_ = std::move(on_result);
  on_failure_ = std::move(on_failure);
}

void PgLink::start(TimePoint now) {
  stopped_ = false;
  backoff_ = timing_.retry_min;
  connect(now);
}

void PgLink::stop() {
  close();
  state_ = State::down;
  stopped_ = true;
}

void PgLink::close() {
  if (conn_) {
    int fd = conn_->socket();
    if (fd >= 0 && on_closing_) on_closing_(fd);
    conn_.reset();  // PQfinish
  }
  ++generation_;
  flushing_ = false;
  again_ = false;
  pending_.reset();
}

void PgLink::connect(TimePoint now) {
  close();
  conn_ = factory_();
  state_ = State::connecting;
  // libpq: right after PQconnectStart, behave as if PQconnectPoll had
  // returned PGRES_POLLING_WRITING.
  connect_events_ = EPOLLOUT;
  waiting_since_ = now;
  deadline_ = now + timing_.timeout;
  if (Status s = conn_->start(conninfo_); !s) fail(s.message(), now);
}

void PgLink::connected(TimePoint now) {
  after_loss_ = false;
  send_query(now);
}

void PgLink::send_query(TimePoint now) {
  if (!conn_->send_query(query_)) return lose(conn_->error_message(), now);
  state_ = State::querying;
  query_sent_at_ = now;
  waiting_since_ = now;
  deadline_ = now + timing_.timeout;
  pending_.reset();
  int flushed = conn_->flush();
  if (flushed < 0) return lose(conn_->error_message(), now);
  flushing_ = flushed == 1;
}

void PgLink::on_socket(uint32_t events, TimePoint now) {
  if (stopped_ || !conn_) return;
  switch (state_) {
    case State::down:
      return;
    case State::connecting:
      // The socket may be replaced inside PQconnectPoll (next address/host).
      ++generation_;
      switch (conn_->poll()) {
        case PgPoll::reading:
          connect_events_ = EPOLLIN;
          return;
        case PgPoll::writing:
          connect_events_ = EPOLLOUT;
          return;
        case PgPoll::ok:
          return connected(now);
        case PgPoll::failed:
          return fail(conn_->error_message(), now);
      }
      return;
    case State::idle:
      // Nothing is expected between queries but a NOTICE, a FATAL before the
      // server closes the socket, or the EOF itself.
      if (!conn_->consume_input() || conn_->bad()) return lose(conn_->error_message(), now);
      return;
    case State::querying:
      if ((events & EPOLLOUT) && flushing_) {
        int flushed = conn_->flush();
        if (flushed < 0) return lose(conn_->error_message(), now);
        flushing_ = flushed == 1;
      }
      if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (!conn_->consume_input()) return lose(conn_->error_message(), now);
        read_results(now);
      }
      return;
  }
}

void PgLink::read_results(TimePoint now) {
  while (!conn_->busy()) {
    std::optional<PgResult> result = conn_->get_result();
    if (result) {
      // Keep the first result, or the first error if one follows.
      if (!pending_ || (pending_->ok && !result->ok)) pending_ = std::move(result);
      continue;
    }
    // The query is complete.
    PgResult done = pending_ ? std::move(*pending_) : PgResult{false, "no result", {}, {}};
    pending_.reset();
    if (conn_->bad()) return lose(done.ok ? conn_->error_message() : done.error, now);
    state_ = State::idle;
    next_query_at_ = again_ ? now : query_sent_at_ + timing_.interval;
    again_ = false;
    if (done.ok) {
      backoff_ = timing_.retry_min;
      if (on_result_) on_result_(done, now);
    } else if (on_failure_) {
      on_failure_(fmt::format("{}: query failed: {}", what_, done.error), false, now);
    }
    return;
  }
}

void PgLink::on_timer(TimePoint now) {
  if (stopped_) return;
  std::optional<TimePoint> due = next_deadline();
  if (!due || now < *due) return;
  if (state_ == State::connecting || state_ == State::querying) {
    Duration blind = blind_ ? blind_(waiting_since_) : Duration::zero();
    deadline_ = waiting_since_ + timing_.timeout + blind;
    if (now < deadline_) return;
  }
  switch (state_) {
    case State::down:
      return connect(now);
    case State::connecting:
      return fail(fmt::format("connect timed out after {} ms", ms(timing_.timeout)), now);
    case State::idle:
      return send_query(now);
    case State::querying:
      return fail(fmt::format("no answer within {} ms", ms(timing_.timeout)), now);
  }
}

void PgLink::poll_now(TimePoint now) {
  if (stopped_) return;
  switch (state_) {
    case State::down:
      retry_at_ = now;
      backoff_ = timing_.retry_min;
      return;
    case State::connecting:
      return;  // the first query goes out as soon as it is connected
    case State::idle:
      next_query_at_ = now;
      return;
    case State::querying:
      again_ = true;
      return;
  }
}

void PgLink::set_interval(Duration interval, TimePoint now) {
  timing_.interval = interval;
  if (state_ == State::idle) next_query_at_ = std::max(query_sent_at_ + interval, now);
}

// The server closed the connection (or it broke): reconnect at once; only a
// failed reconnect is reported.
void PgLink::lose(const std::string& reason, TimePoint now) {
  log::debug("postgres {}: connection lost ({}), reconnecting", what_, reason);
  after_loss_ = true;
  loss_reason_ = reason;
  connect(now);
}

void PgLink::fail(const std::string& reason, TimePoint now) {
  close();
  state_ = State::down;
  bool lost = after_loss_;
  after_loss_ = false;
  retry_at_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, timing_.retry_max);
  std::string why = lost ? fmt::format("{}: connection lost ({}); reconnect failed: {}", what_,
                                       loss_reason_, reason)
                         : fmt::format("{}: {}", what_, reason);
  if (on_failure_) on_failure_(why, lost, now);
}

PgLink::Want PgLink::want() const {
  Want w;
  w.generation = generation_;
  if (stopped_ || !conn_) return w;
  switch (state_) {
    case State::down:
      return w;
    case State::connecting:
      w.events = connect_events_;
      break;
    case State::idle:
      w.events = EPOLLIN;
      break;
    case State::querying:
      w.events = EPOLLIN | (flushing_ ? EPOLLOUT : 0u);
      break;
  }
  w.fd = conn_->socket();
  if (w.fd < 0) w.events = 0;
  return w;
}

std::optional<TimePoint> PgLink::next_deadline() const {
  if (stopped_) return std::nullopt;
  switch (state_) {
    case State::down:
      return retry_at_;
    case State::connecting:
    case State::querying:
      return deadline_;
    case State::idle:
      return next_query_at_;
  }
  return std::nullopt;
}

}  // namespace pgvrrpd::checkers
