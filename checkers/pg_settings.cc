#include "checkers/pg_settings.h"

#include <chrono>
#include <utility>

namespace pgvrrpd::checkers {

namespace {
// Between two runs the link only says SELECT 1, once a day.
constexpr Duration kKeepAlive = std::chrono::hours(24);
constexpr const char* kIdleQuery = "SELECT 1";
}  // namespace

PgSettings::PgSettings(PgConnectionFactory factory, std::string conninfo, Duration timeout)
    : link_("settings", std::move(factory), std::move(conninfo), "",
            PgLinkTiming{kKeepAlive, timeout, timeout, timeout}) {
  link_.set_callbacks([this](const PgResult&, TimePoint now) { on_result(now); },
                      [this](const std::string& reason, bool, TimePoint now) {
                        finish(Status::error(reason), now);
                      });
}

void PgSettings::run(std::vector<std::string> statements, TimePoint now, Done done) {
  statements_ = std::move(statements);
  next_ = 1;
  done_ = std::move(done);
  // A statement of the run replaced, or a keep-alive, may be in flight: its
  // answer is not this run's.
  skip_ = started_ && link_.state() == PgLink::State::querying;
  link_.set_query(statements_.front());
  if (!started_) {
    started_ = true;
    link_.start(now);  // connects, then sends the first statement
  } else {
    link_.poll_now(now);  // at once, or right after what is in flight
  }
}

void PgSettings::open(TimePoint now) {
  if (started_) return;
  started_ = true;
  link_.set_query(kIdleQuery);
  link_.start(now);
}

void PgSettings::stop() {
  link_.stop();
  started_ = false;
  skip_ = false;
  done_ = nullptr;
}

void PgSettings::on_result(TimePoint now) {
  if (skip_) {
    skip_ = false;
    return;
  }
  if (!done_) return;
  if (next_ >= statements_.size()) return finish(Status::success(), now);
  link_.set_query(statements_[next_++]);
  link_.poll_now(now);
}

void PgSettings::finish(const Status& status, TimePoint now) {
  link_.set_query(kIdleQuery);
  skip_ = false;
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(status, now);
}

}  // namespace pgvrrpd::checkers
