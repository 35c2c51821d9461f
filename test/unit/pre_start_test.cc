// policy/pre_start: may PostgreSQL start, given what its data directory
// starts as and what the peer's server answered.
#include "vrrpd/policy/pre_start.h"

#include <doctest/doctest.h>

namespace pgvrrpd::policy {
namespace {

constexpr std::string_view kPeer = "host 198.51.100.2 port 5432";

TEST_CASE("pre-start: a standby may always start, without asking the peer") {
  CHECK_FALSE(needs_peer_answer(LocalStart::standby));
  for (PeerAnswer peer : {PeerAnswer::primary, PeerAnswer::standby, PeerAnswer::none}) {
    auto verdict = decide_pre_start(LocalStart::standby, peer, kPeer);
    CHECK(verdict.allow);
    CHECK(verdict.reason.find("standby.signal") != std::string::npos);
  }
}

TEST_CASE("pre-start: a would-be primary beside a primary peer is refused, naming the peer") {
  CHECK(needs_peer_answer(LocalStart::primary));
  auto verdict = decide_pre_start(LocalStart::primary, PeerAnswer::primary, kPeer);
  CHECK_FALSE(verdict.allow);
  CHECK(verdict.reason.find("refusing to start the server as a primary") == 0);
  CHECK(verdict.reason.find(std::string(kPeer)) != std::string::npos);
}

TEST_CASE("pre-start: a would-be primary beside a standby peer starts") {
  auto verdict = decide_pre_start(LocalStart::primary, PeerAnswer::standby, kPeer);
  CHECK(verdict.allow);
  CHECK(verdict.reason.find("answers as a standby") != std::string::npos);
}

TEST_CASE("pre-start: with no answer from the peer (both booting) the server starts") {
  // Refusing would leave a pair that lost power with no primary at all.
  auto verdict = decide_pre_start(LocalStart::primary, PeerAnswer::none, kPeer);
  CHECK(verdict.allow);
  CHECK(verdict.reason.find("did not answer") != std::string::npos);
}

}  // namespace
}  // namespace pgvrrpd::policy
