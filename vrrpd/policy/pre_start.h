// pgvrrpd --pre-start, run by PostgreSQL's own unit before the server
// starts (packaging/postgresql-pgvrrpd.conf): may this server start? A node
// that rebooted after a failover still holds an old primary, and starting
// it as one gives the pair two writable servers on their real IPs until
// pgvrrpd runs and fences it. The decision is pure; asking the peer and
// looking at the data directory are the caller's (vrrpd/wiring/pre_start).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgvrrpd::policy {

// What the data directory will start as: standby.signal makes a standby;
// without it the server is, or becomes, a primary (recovery.signal ends
// its recovery writable).
enum class LocalStart : uint8_t { standby, primary };

// The peer's server, asked over TCP until the wait ran out.
enum class PeerAnswer : uint8_t { primary, standby, none };

struct PreStartVerdict {
  bool allow = true;
  std::string reason;  // one line, for the journal
};

// Whether the peer need be asked at all (a standby may always start).
inline bool needs_peer_answer(LocalStart local) { return local == LocalStart::primary; }

// `peer_name` names the peer's server in the reason.
PreStartVerdict decide_pre_start(LocalStart local, PeerAnswer peer, std::string_view peer_name);

}  // namespace pgvrrpd::policy
