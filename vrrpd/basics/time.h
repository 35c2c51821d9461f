// Time as the protocol core sees it: values handed in by the caller, never read
// from a clock here, so tests drive the core with a fake one.
#pragma once

#include <chrono>
#include <cstdint>
#include <ratio>

namespace pgvrrpd {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
// VRRPv3 expresses intervals in centiseconds (RFC 5798 5.2.7).
using Centiseconds = std::chrono::duration<int64_t, std::centi>;

}  // namespace pgvrrpd
