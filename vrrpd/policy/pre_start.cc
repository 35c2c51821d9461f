#include "vrrpd/policy/pre_start.h"

#include <fmt/format.h>

namespace pgvrrpd::policy {

PreStartVerdict decide_pre_start(LocalStart local, PeerAnswer peer, std::string_view peer_name) {
  if (local == LocalStart::standby)
    return {true, "the server starts as a standby (standby.signal)"};
  switch (peer) {
    case PeerAnswer::primary:
      return {false, fmt::format(
                         "refusing to start the server as a primary: the peer's server ({}) "
                         "answers as a primary, so this one is a stale old primary. pgvrrpd "
                         "makes it a standby of the peer (the rejoin hook, with auto_rejoin), "
                         "or rejoin it by hand; it then starts as a standby",
                         peer_name)};
    case PeerAnswer::standby:
      return {true, fmt::format("the peer's server ({}) answers as a standby: starting as the "
                                "primary",
                                peer_name)};
    case PeerAnswer::none:
      break;
  }
  // Both nodes booting after a power loss: each may be waiting for the
  // other, and refusing would leave the pair with no primary at all.
  // pgvrrpd fences whichever server is a primary on the node that does not
  // become master.
  return {true, fmt::format("the peer's server ({}) did not answer: starting as a primary; "
                            "pgvrrpd fences it if the peer turns out to be the master",
                            peer_name)};
}

}  // namespace pgvrrpd::policy
