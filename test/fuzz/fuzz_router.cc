// Router, stateful: two or three simulated routers of one VRID on one link,
// driven by random events (time passing, adverts delivered late or lost,
// faults, the policy's guards, restarts). Adverts travel as bytes through
// encode() and classify(), as on the wire. Checked after every call:
//   - never MASTER while faulted; VIPs never held in FAULT; a BACKUP holds
//     VIPs left by an earlier run only on its way to taking over;
//   - no timer due in the past, and none due at `now` after expire(now);
//   - transitions chain (each starts from the state the last one ended in);
// and at the end, after a settling period with every advert delivered and
// no yield guard: at most one MASTER among the routers, which hear each other.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "test/fuzz/fuzz_check.h"
#include "vrrpd/core/receive_filter.h"
#include "vrrpd/core/router.h"

using namespace pgvrrpd;
using namespace pgvrrpd::vrrp;
using namespace std::chrono_literals;

namespace {

constexpr uint8_t kVrid = 51;

struct Node {
  RouterParams params;
  IpAddress address;
  std::unique_ptr<Router> router;
  bool up = true;
  bool holds_vips = false;
  State last_state = State::initialize;
  // Its receive filter's table, built at its first advert: a fresh 256-slot
  // table per delivery was a tenth of the harness's time.
  std::unique_ptr<RoutersByVrid> table;
};

struct Message {
  TimePoint deliver_at;
  size_t from;
  std::vector<uint8_t> bytes;
};

class Link {
 public:
  explicit Link(FuzzedDataProvider& in) : in_(in) {}

  void add_node(RouterParams params, IpAddress address) {
    Node& n = nodes_.emplace_back();
    n.params = std::move(params);
    n.address = address;
  }

  void start_all() {
    for (auto& n : nodes_) n.params.peers.clear();
    for (size_t i = 0; i < nodes_.size(); ++i)
      for (size_t j = 0; j < nodes_.size(); ++j)
        if (i != j) nodes_[i].params.peers.push_back(nodes_[j].address);
    for (size_t i = 0; i < nodes_.size(); ++i) restart(i, false);
  }

  // One random event.
  void step() {
    size_t i = in_.ConsumeIntegralInRange<size_t>(0, nodes_.size() - 1);
    Node& n = nodes_[i];
    int event = in_.ConsumeIntegralInRange(0, 9);
    if (trace_) std::fprintf(stderr, "event %d on node %zu\n", event, i);
    switch (event) {
      case 0:
      case 1:
        advance(now_ + std::chrono::milliseconds(in_.ConsumeIntegralInRange(0, 1000)), true);
        break;
      case 2:  // on to the next advert's arrival, firing the timers due first
        if (!queue_.empty()) advance(queue_.front().deliver_at, true);
        break;
      case 3:
        if (!queue_.empty()) queue_.erase(queue_.begin());  // lost
        break;
      case 4:
        if (n.up) {
          const char* source = in_.ConsumeBool() ? "pg" : "link";
          apply(i, n.router->set_fault(now_, source, in_.ConsumeBool(), "fuzz"));
        }
        break;
      case 5:
        if (n.up)
          apply(i, n.router->set_takeover_blocker(
                       now_, in_.ConsumeBool() ? std::optional<std::string>("guard") : std::nullopt));
        break;
      case 6:
        if (n.up) apply(i, n.router->set_serving(now_, in_.ConsumeBool()));
        break;
      case 7:
        if (n.up && n.params.priority != kOwnerPriority) {
          n.router->set_priority(in_.ConsumeIntegralInRange<uint8_t>(1, 254));
          check(i, false);
        }
        break;
      case 8:
        if (n.up) {
          n.router->set_yield_blocker(in_.ConsumeBool() ? std::optional<std::string>("db says no")
                                                        : std::nullopt);
          check(i, false);
        }
        break;
      case 9:
        if (n.up) {
          apply(i, n.router->shutdown(now_));
          n.up = false;
        } else {
          restart(i, in_.ConsumeBool());
        }
        break;
    }
  }

  // Every advert delivered at once, no guard, servers accepting writes,
  // then long enough for any contest to end.
  void settle() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      if (!n.up) restart(i, false);
      n.router->set_yield_blocker(std::nullopt);
      apply(i, n.router->set_serving(now_, true));
    }
    for (auto& m : queue_) m.deliver_at = now_;
    lossless_ = true;
    Duration longest{};
    for (auto& n : nodes_) longest = std::max(longest, n.router->master_down_interval());
    // Master_Down_Interval uses the learned interval, which may be another
    // router's: the longest configured one bounds every contest.
    Duration horizon = 2 * (3 * max_interval() + 1s) + longest;
    advance(now_ + horizon, false);
    size_t masters = 0;
    for (auto& n : nodes_) masters += n.router->state() == State::master;
    FUZZ_CHECK(masters <= 1);
  }

 private:
  Duration max_interval() const {
    Duration longest{};
    for (auto& n : nodes_)
      longest = std::max(longest, std::chrono::duration_cast<Duration>(n.params.advert_interval));
    return longest;
  }

  void restart(size_t i, bool vips_present) {
    Node& n = nodes_[i];
    if (trace_) std::fprintf(stderr, "node %zu: start, VIPs present: %d, priority %d, preempt %d, gate %d, interval %lld cs\n", i,
                             vips_present, n.params.priority, n.params.preempt, n.params.gate_vips_on_serving, static_cast<long long>(n.params.advert_interval.count()));
    n.router = std::make_unique<Router>(n.params, n.address);
    n.up = true;
    n.last_state = State::initialize;
    n.holds_vips = vips_present;
    apply(i, n.router->start(now_, vips_present));
  }

  // Moves time to `until`, firing timers and delivering adverts in time
  // order. With `random_drops`, the input may lose an advert in transit.
  void advance(TimePoint until, bool random_drops) {
    for (int guard = 0; guard < 100000; ++guard) {
      std::optional<TimePoint> next_timer;
      size_t timer_node = 0;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i].up) continue;
        auto d = nodes_[i].router->next_deadline();
        if (d && (!next_timer || *d < *next_timer)) next_timer = d, timer_node = i;
      }
      std::optional<TimePoint> next_message;
      if (!queue_.empty()) next_message = queue_.front().deliver_at;
      std::optional<TimePoint> next = next_timer;
      if (next_message && (!next || *next_message <= *next)) next = next_message;
      if (!next || *next > until) break;
      now_ = std::max(now_, *next);
      if (next_message && *next == *next_message) {
        if (random_drops && in_.remaining_bytes() > 0 && in_.ConsumeIntegralInRange(0, 15) == 0)
          queue_.erase(queue_.begin());
        else
          deliver_next();
      } else {
        apply(timer_node, nodes_[timer_node].router->expire(now_), true);
      }
    }
    now_ = std::max(now_, until);
  }

  void deliver_next() {
    if (queue_.empty()) return;
    Message m = std::move(queue_.front());
    queue_.erase(queue_.begin());
    PacketContext context{nodes_[m.from].address, vrrp_multicast_group(Family::ipv4), kRequiredTtl};
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      if (i == m.from || !n.up) continue;
      if (!n.table) {
        n.table = std::make_unique<RoutersByVrid>();
        (*n.table)[kVrid] = RouterSlot{&n.params, n.address};
      }
      Classified c = classify(m.bytes, context, *n.table);
      // Every router speaks the same version and VIPs: only the owner's
      // rule or v2's interval check may drop a peer's advert.
      FUZZ_CHECK(c.reject == Reject::none || c.reject == Reject::owner_conflict ||
                 c.reject == Reject::interval_mismatch);
      if (c.reject == Reject::none) apply(i, n.router->receive(now_, c.advert, context.source));
    }
  }

  void apply(size_t i, const Actions& actions, bool after_expire = false) {
    Node& n = nodes_[i];
    for (const Action& a : actions) {
      if (trace_)
        std::fprintf(stderr, "t=%lld node %zu: action %d prio %d %s->%s %s\n",
                     static_cast<long long>(now_.time_since_epoch().count() / 1000000), i,
                     static_cast<int>(a.kind), a.priority, std::string(state_name(a.from)).c_str(),
                     std::string(state_name(a.to)).c_str(), a.reason.c_str());
      switch (a.kind) {
        case Action::Kind::send_advert: {
          Advert advert = n.router->make_advert(a.priority);
          auto bytes = encode(advert, n.address, vrrp_multicast_group(Family::ipv4),
                              n.params.checksum_mode);
          auto delay = lossless_ ? 0ms : std::chrono::milliseconds(
                                             in_.ConsumeIntegralInRange(0, 50));
          Message m{now_ + delay, i, std::move(bytes)};
          auto at = std::upper_bound(queue_.begin(), queue_.end(), m.deliver_at,
                                     [](TimePoint t, const Message& x) { return t < x.deliver_at; });
          queue_.insert(at, std::move(m));
          break;
        }
        case Action::Kind::add_vips:
          n.holds_vips = true;
          break;
        case Action::Kind::remove_vips:
          n.holds_vips = false;
          break;
        case Action::Kind::transition:
          FUZZ_CHECK(a.from == n.last_state);
          FUZZ_CHECK(a.from != a.to);
          n.last_state = a.to;
          break;
        case Action::Kind::announce:
        case Action::Kind::notice:
          break;
      }
    }
    check(i, after_expire);
  }

  void check(size_t i, bool after_expire) {
    Node& n = nodes_[i];
    const Router& r = *n.router;
    FUZZ_CHECK(r.state() == n.last_state);
    if (r.faulted()) FUZZ_CHECK(r.state() != State::master);
    if (r.state() == State::fault) FUZZ_CHECK(!n.holds_vips);
    // A backup keeps VIPs left by an earlier run only on its way to taking
    // over: never while the guard holds it back, and once it has heard a
    // master, only for the Skew_Time after that master resigned.
    if (r.state() == State::backup && n.holds_vips) {
      FUZZ_CHECK(!r.takeover_held());
      if (r.decided()) {
        auto due = r.next_deadline();
        // Skew_Time is under one interval whatever the priority (which
        // set_priority may have changed since the timer was set).
        FUZZ_CHECK(due && *due <= now_ + std::chrono::duration_cast<Duration>(
                                             r.master_adver_interval()));
      }
    }
    if (auto d = r.next_deadline(); d && trace_ && *d < now_)
      std::fprintf(stderr, "node %zu (%s): deadline %lld us before now\n", i,
                   std::string(state_name(r.state())).c_str(),
                   static_cast<long long>((now_ - *d).count() / 1000));
    if (auto d = r.next_deadline()) {
      FUZZ_CHECK(*d >= now_);
      if (after_expire) FUZZ_CHECK(*d > now_);
    }
  }

  FuzzedDataProvider& in_;
  std::vector<Node> nodes_;
  std::vector<Message> queue_;  // by delivery time
  TimePoint now_ = TimePoint(1000s);
  bool lossless_ = false;
  bool trace_ = std::getenv("FUZZ_TRACE") != nullptr;  // to read a finding
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Link link(in);
  size_t count = in.ConsumeBool() ? 3 : 2;
  uint8_t version = in.ConsumeBool() ? 2 : 3;
  // v2 intervals must agree (RFC 3768 7.1); v3 backups learn the master's.
  Centiseconds shared_interval(100);
  bool owner_taken = false;
  for (size_t i = 0; i < count; ++i) {
    RouterParams p;
    p.name = "pg";
    p.vrid = kVrid;
    p.version = version;
    p.priority = in.ConsumeIntegralInRange<uint8_t>(1, 255);
    if (p.priority == kOwnerPriority) {
      // Two owners of one address would both be right to stay master.
      if (owner_taken) p.priority = 254;
      owner_taken = true;
    }
    p.advert_interval =
        version == 2 ? shared_interval : Centiseconds(in.ConsumeIntegralInRange(10, 100));
    p.preempt = in.ConsumeBool();
    p.gate_vips_on_serving = in.ConsumeBool();
    p.serving_timeout = std::chrono::seconds(in.ConsumeIntegralInRange(1, 60));
    p.virtual_ips = {*IpPrefix::parse("198.51.100.100/24")};
    uint8_t host[4] = {198, 51, 100, static_cast<uint8_t>(11 + i)};
    link.add_node(std::move(p), IpAddress::v4(host));
  }
  link.start_all();
  for (int steps = 0; steps < 100 && in.remaining_bytes() > 0; ++steps) link.step();
  link.settle();
  return 0;
}
