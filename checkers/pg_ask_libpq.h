// One blocking question to a PostgreSQL server, for the one-shot
// `pgvrrpd --pre-start` only: the daemon's loop never blocks (pg_link.h).
#pragma once

#include <chrono>
#include <string>

#include "vrrpd/basics/result.h"

namespace pgvrrpd::checkers {

// pg_is_in_recovery() of the server `conninfo` names: true for a standby.
// An error when it cannot connect, or no answer comes within `timeout`
// (connecting included).
Result<bool> ask_in_recovery(const std::string& conninfo, std::chrono::milliseconds timeout);

// "host H port P" of a connection string, for messages (no password).
std::string server_of(const std::string& conninfo);

}  // namespace pgvrrpd::checkers
