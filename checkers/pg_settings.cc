#include "checkers/pg_settings.h"

#include <chrono>
#include <utility>

namespace pgvrrpd::checkers {

namespace {
// Between two runs the link sends nothing: its "interval" only has to be
// longer than any run.
constexpr Duration kNoRepeat = std::chrono::hours(24);
}  // namespace

PgSettings::PgSettings(PgConnectionFactory factory, std::string conninfo, Duration timeout)
    : link_("settings", std::move(factory), std::move(conninfo), "",
            PgLinkTiming{kNoRepeat, timeout, timeout, timeout}) {
  link_.set_callbacks([this](const PgResult&, TimePoint now) { on_result(now); },
                      [this](const std::string& reason, bool, TimePoint now) {
                        finish(Status::error(reason), now);
                      });
}

void PgSettings::run(std::vector<std::string> statements, TimePoint now, Done done) {
  link_.stop();
  statements_ = std::move(statements);
  next_ = 1;
  done_ = std::move(done);
  link_.set_query(statements_.front());
  link_.start(now);  // connects, then sends the first statement
}

void PgSettings::stop() {
  link_.stop();
  done_ = nullptr;
}

void PgSettings::on_result(TimePoint now) {
  if (!done_) return;
  if (next_ >= statements_.size()) return finish(Status::success(), now);
  link_.set_query(statements_[next_++]);
  link_.poll_now(now);
}

void PgSettings::finish(const Status& status, TimePoint now) {
  // The connection goes: settings change seldom, and an idle session
  // would hold a server slot for nothing.
  link_.stop();
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(status, now);
}

}  // namespace pgvrrpd::checkers
