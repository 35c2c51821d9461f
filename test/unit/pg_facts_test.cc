#include <doctest/doctest.h>

#include "checkers/pg_facts.h"
#include "fake_pg_connection.h"

namespace pgvrrpd::checkers {
namespace {

using testing::Answer;

TEST_CASE("postgres facts: LSN text to uint64 and back") {
  CHECK(parse_lsn("0/3000060") == 0x3000060u);
  CHECK(parse_lsn("16/B374D848") == 0x16B374D848u);
  CHECK(parse_lsn("FFFFFFFF/FFFFFFFF") == UINT64_MAX);
  CHECK(parse_lsn("0/0") == 0u);
  for (const char* bad : {"", "0", "/1", "1/", "x/1", "1/-1", "100000000/0", "0/100000000", "1/2/3", " 0/1"})
    CHECK_MESSAGE(!parse_lsn(bad), bad);
  CHECK(format_lsn(0x16B374D848u) == "16/B374D848");
  CHECK(format_lsn(0x3000060u) == "0/3000060");
}

TEST_CASE("postgres facts: a primary's answer has NULLs where a standby has values") {
  Result<PgServerState> s = parse_server_state(Answer::primary("0/3000060", "3").result());
  REQUIRE(s);
  CHECK(s->role == PgRole::primary);
  CHECK(s->system_identifier == 7311234567890123456u);
  CHECK(s->current_lsn == 0x3000060u);
  CHECK(s->timeline == 3);  // the insert timeline, not the checkpoint's (1)
  CHECK(s->checkpoint_timeline == 1);
  CHECK_FALSE(s->receive_lsn);
  CHECK_FALSE(s->replay_lsn);
  CHECK_FALSE(s->replay_lag_seconds);
  CHECK(s->receiver_status.empty());
  CHECK(s->receiver_timeline == 0);
}

TEST_CASE("postgres facts: a streaming standby's answer") {
  Answer a = Answer::streaming_standby("0/5000000", "0/4FFFF00");
  a.receiver_timeline = "2";
  a.replay_lag_seconds = "0.25";
  Result<PgServerState> s = parse_server_state(a.result());
  REQUIRE(s);
  CHECK(s->role == PgRole::standby);
  CHECK_FALSE(s->current_lsn);
  CHECK(s->receive_lsn == 0x5000000u);
  CHECK(s->replay_lsn == 0x4FFFF00u);
  CHECK(s->receiver_status == "streaming");
  CHECK(s->timeline == 2);  // received_tli while the receiver runs
  CHECK(s->replay_lag_seconds == doctest::Approx(0.25));

  // The receiver gone: the checkpoint's timeline is the lower bound.
  a.receiver_status.reset();
  a.receiver_timeline.reset();
  a.receiver_latest_end_lsn.reset();
  s = parse_server_state(a.result());
  REQUIRE(s);
  CHECK(s->timeline == 1);
}

TEST_CASE("postgres facts: malformed answers are errors, not zeros") {
  PgResult r = Answer::primary().result();
  r.rows[0][2] = "garbage";
  CHECK_FALSE(parse_server_state(r));
  r = Answer::primary().result();
  r.columns[1] = "renamed";
  CHECK_FALSE(parse_server_state(r));
  r = Answer::primary().result();
  r.rows.clear();
  CHECK_FALSE(parse_server_state(r));
  // A row with fewer fields than columns (read past its end before).
  r = Answer::primary().result();
  r.rows[0].resize(3);
  CHECK_FALSE(parse_server_state(r));
  // strtod reads these; no server reports such a lag.
  for (const char* lag : {"nan", "inf", "-inf", "1e999"}) {
    Answer a = Answer::streaming_standby("0/5000000", "0/4FFFF00");
    a.replay_lag_seconds = lag;
    CHECK_MESSAGE(!parse_server_state(a.result()), lag);
  }
  CHECK(parse_server_state(PgResult{false, "ERROR: permission denied", {}, {}}).status().message() ==
        "ERROR: permission denied");
}

TEST_CASE("postgres facts: lag against the best known primary position") {
  PgFacts f;
  f.local = *parse_server_state(Answer::streaming_standby("0/5000000", "0/4000000").result());
  f.local->receiver_latest_end_lsn = 0x5000100;
  derive_lag(f, 1000);
  CHECK(f.primary_lsn == 0x5000100u);  // only the receiver's view so far
  CHECK(f.receive_lag_bytes == 0x100u);
  CHECK(f.replay_lag_bytes == 0x1000100u);
  CHECK_FALSE(f.lag_exceeded);

  // The peer seen as primary further ahead: that wins.
  f.peer = *parse_server_state(Answer::primary("0/6000000").result());
  f.peer_primary_lsn = 0x6000000;
  derive_lag(f, 1000);
  CHECK(f.primary_lsn == 0x6000000u);
  CHECK(f.receive_lag_bytes == 0x1000000u);
  CHECK(f.lag_exceeded);

  // An older observation of the primary than our own position: clamped at 0.
  f.peer_primary_lsn = 0x4000000;
  f.local->receiver_latest_end_lsn.reset();
  derive_lag(f, std::nullopt);
  CHECK(f.receive_lag_bytes == 0u);
  CHECK_FALSE(f.lag_exceeded);

  // A primary has no lag.
  f.local = *parse_server_state(Answer::primary().result());
  derive_lag(f, 0);
  CHECK_FALSE(f.receive_lag_bytes);
  CHECK_FALSE(f.primary_lsn);
}

}  // namespace
}  // namespace pgvrrpd::checkers
