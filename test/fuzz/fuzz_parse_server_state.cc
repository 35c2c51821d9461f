// parse_server_state(): a kFactsQuery answer as the server (or a server
// pretending to be ours) sends it: any columns, any values, NULLs. It must
// answer or refuse, and what it answers must be consistent.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>

#include "checkers/pg_facts.h"
#include "test/fuzz/fuzz_check.h"

using namespace pgvrrpd;
using namespace pgvrrpd::checkers;

namespace {

// The query's columns, so that most inputs get past the lookup by name.
const char* const kColumns[] = {
    "in_recovery",     "system_identifier",  "current_lsn",      "insert_timeline",
    "receive_lsn",     "replay_lsn",         "replay_lag_seconds", "checkpoint_timeline",
    "receiver_status", "receiver_timeline",  "receiver_latest_end_lsn", "sync_standby_names",
    "sender_state", "sender_name", "sender_sync_state", "sender_flush_lsn"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PgResult result;
  result.ok = in.ConsumeIntegralInRange(0, 15) != 0;
  if (!result.ok) result.error = in.ConsumeRandomLengthString(64);
  size_t columns = in.ConsumeIntegralInRange<size_t>(0, std::size(kColumns) + 2);
  for (size_t c = 0; c < columns; ++c)
    result.columns.push_back(in.ConsumeIntegralInRange(0, 7) == 0
                                 ? in.ConsumeRandomLengthString(24)
                                 : kColumns[in.ConsumeIntegralInRange<size_t>(0, std::size(kColumns) - 1)]);
  size_t rows = in.ConsumeIntegralInRange(0, 2);
  for (size_t r = 0; r < rows; ++r) {
    auto& row = result.rows.emplace_back();
    // Sometimes fewer or more fields than columns: a broken answer.
    size_t fields = in.ConsumeIntegralInRange(0, 15) == 0 ? in.ConsumeIntegralInRange<size_t>(0, 14)
                                                          : columns;
    for (size_t f = 0; f < fields; ++f) {
      if (in.ConsumeIntegralInRange(0, 5) == 0)
        row.push_back(std::nullopt);
      else
        row.push_back(in.ConsumeRandomLengthString(32));
    }
  }
  auto state = parse_server_state(result);
  if (!state) return 0;
  FUZZ_CHECK(result.ok);
  FUZZ_CHECK(!result.rows.empty());
  if (state->replay_lag_seconds) FUZZ_CHECK(std::isfinite(*state->replay_lag_seconds));
  return 0;
}
