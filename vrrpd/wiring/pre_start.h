// `pgvrrpd --pre-start -f FILE`: the ExecStartPre of PostgreSQL's own unit
// (packaging/postgresql-pgvrrpd.conf). The verdict is policy/pre_start.h's;
// this looks at the data directory and asks the peer's server.
#pragma once

#include <chrono>

#include "vrrpd/config/config.h"

namespace pgvrrpd {

// Returns the exit status: 0, the server may start; 1, it must not (or the
// configuration does not say enough to tell). Writes why to stderr, which
// systemd puts in the journal. Asks the peer for up to `wait`.
int run_pre_start(const Config& config, std::chrono::milliseconds wait);

}  // namespace pgvrrpd
