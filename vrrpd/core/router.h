// One virtual router's state machine (RFC 5798 6.4, RFC 3768 6.4). Pure: it
// takes events and the current time and returns actions for the edge to
// carry out; it owns no socket, clock or log.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/core/packet.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd::vrrp {

enum class State : uint8_t { initialize, backup, master, fault };

// The names used in logs and hooks: INIT, BACKUP, MASTER, FAULT.
std::string_view state_name(State state);

inline constexpr uint8_t kOwnerPriority = 255;  // RFC 5798 5.2.4

struct RouterParams {
  std::string name;
  uint8_t vrid = 1;
  uint8_t version = 3;
  Family family = Family::ipv4;
  uint8_t priority = 100;
  Centiseconds advert_interval{100};
  // Unlike RFC 5798's default, off: a database primary is sticky.
  bool preempt = false;
  // With their prefix length: the edge adds them so (netlink); adverts
  // carry the addresses alone.
  std::vector<IpPrefix> virtual_ips;
  std::vector<IpAddress> unicast_peers;  // empty: multicast
  // The only sources adverts are accepted from, besides unicast_peers (a
  // unicast router accepts only those). Empty on a multicast router: any
  // source on the link (accept_any_source; VRRP has no authentication).
  std::vector<IpAddress> peers;
  // Unicast: require TTL / hop limit 255 as multicast does (the sender is
  // on the link); off for routed unicast peers.
  bool unicast_ttl_check = true;
  ChecksumMode checksum_mode = ChecksumMode::pseudo_header;
  // v2 authentication (RFC 3768 5.3.6): 0 none, 1 simple text password.
  uint8_t auth_type = 0;
  std::array<uint8_t, kV2AuthSize> auth_data{};
  // Promote before the VIP: a new master advertises at once (so the peer
  // stays backup) but adds its VIPs only once the local server accepts
  // writes (set_serving), and gives up (FAULT) if that has not happened
  // within serving_timeout. Off for a plain VRRP router.
  bool gate_vips_on_serving = false;
  Duration serving_timeout = std::chrono::seconds(60);
};

// --- what the edge must do, in the order returned ---
// A plain struct rather than a std::variant: GCC 12 reports false
// maybe-uninitialized errors for vectors of variants holding a std::string.
// Why a router changed state, in a few words a metric can carry (the
// transition's reason is free text for the log).
enum class Cause : uint8_t {
  startup,
  master_down,             // Master_Down_Timer expired
  master_resigned,         // the master's priority 0 advert
  takeover_guard_cleared,  // a held takeover went ahead
  outranked,               // a higher (or equal, higher address) priority advert
  fault_check,             // a tracked check failed
  fault_link,              // the interface went down
  fault_promotion,         // promote before the VIP failed or timed out
  fault_switchover,        // a switchover handed over
  fault_other,
  fault_cleared,
  shutdown,
};
inline constexpr size_t kCauses = 12;
std::string_view cause_name(Cause cause);

struct Action {
  enum class Kind : uint8_t {
    send_advert,  // at `priority`; 0 for the shutdown advert (RFC 5798 6.4.3)
    add_vips,     // add (or keep, refreshing the lease) the VIPs
    remove_vips,  // take the VIPs off the interface
    announce,     // gratuitous ARP / unsolicited NA for every VIP
    transition,   // state changed `from` -> `to` because of `reason`
    notice,       // worth a log line, no state change: `reason`
  };
  Kind kind = Kind::send_advert;
  uint8_t priority = 0;
  State from = State::initialize;
  State to = State::initialize;
  Cause cause = Cause::startup;  // transition only
  std::string reason;

  static Action send_advert(uint8_t priority) { return of(Kind::send_advert, priority); }
  static Action add_vips() { return of(Kind::add_vips); }
  static Action remove_vips() { return of(Kind::remove_vips); }
  static Action announce() { return of(Kind::announce); }
  static Action notice(std::string text) {
    Action a = of(Kind::notice);
    a.reason = std::move(text);
    return a;
  }
  static Action transition(State from, State to, Cause cause, std::string reason) {
    Action a = of(Kind::transition);
    a.from = from;
    a.to = to;
    a.cause = cause;
    a.reason = std::move(reason);
    return a;
  }

 private:
  static Action of(Kind kind, uint8_t priority = 0) {
    Action a;
    a.kind = kind;
    a.priority = priority;
    return a;
  }
};
using Actions = std::vector<Action>;

class Router {
 public:
  // `primary_address` is the source of our adverts, used for the tie-break
  // (RFC 5798 6.4.3): the interface's primary IPv4 address or its IPv6
  // link-local address (or unicast_source).
  Router(RouterParams params, IpAddress primary_address);

  // Startup event (RFC 5798 6.4.1). `vips_present`: the VIPs are already on
  // the interface (left by an earlier run). They are kept until the router
  // decides: adopted without a gap if it becomes master, removed otherwise.
  Actions start(TimePoint now, bool vips_present = false);

  // An advert that passed the codec and the receive filter.
  Actions receive(TimePoint now, const Advert& advert, const IpAddress& source);

  // Fires the timers due at `now` (Master_Down_Timer or Adver_Timer).
  Actions expire(TimePoint now);

  // Shutdown event: a master sends priority 0 and drops the VIPs.
  Actions shutdown(TimePoint now);

  // Fault on/off from one `source` (a check's name, "link", ...). The
  // router is in FAULT while any source is. A master in fault gives up at
  // once with a priority 0 advert; leaving fault starts over as backup.
  Actions set_fault(TimePoint now, std::string_view source, bool faulted,
                    std::string_view reason);
  Actions set_fault(TimePoint now, bool faulted, std::string_view reason) {
    return set_fault(now, "fault", faulted, reason);
  }

  // The takeover guard (from the failover policy): while a reason is set, a
  // backup whose Master_Down_Timer fires stays backup and says why; once it
  // is cleared the router takes over at once, unless a master has been
  // heard meanwhile.
  Actions set_takeover_blocker(TimePoint now, std::optional<std::string> reason);

  // The yield guard (from the failover policy): while a reason is set, a
  // master does not yield to an advert that outranks it (a forged one: the
  // peer it claims to come from says otherwise, e.g. its server answers as
  // a standby); it keeps advertising and says why, once per such sender.
  void set_yield_blocker(std::optional<std::string> reason) { yield_blocker_ = std::move(reason); }

  // The reclaim guard (from the failover policy): while a reason is set, a
  // master that hears a lower-priority master (a split just healed) answers
  // it with an advert but does not announce the VIPs to the clients: the
  // other side may have promoted its server meanwhile, and pulling the
  // clients back to this one would have it acknowledge writes the promoted
  // side never gets. Cleared while still master, the held announcement goes
  // out then.
  Actions set_reclaim_blocker(std::optional<std::string> reason);

  // Whether the local server accepts writes (see gate_vips_on_serving).
  Actions set_serving(TimePoint now, bool serving);

  // The effective priority (configured priority plus check weights). A
  // master advertises it from its next advert on; a backup's Skew_Time
  // follows it.
  void set_priority(uint8_t priority) { priority_ = priority; }

  // When the next timer is due; nullopt when none is armed.
  std::optional<TimePoint> next_deadline() const;

  State state() const { return state_; }
  const RouterParams& params() const { return params_; }
  const IpAddress& primary_address() const { return primary_address_; }
  uint8_t priority() const { return priority_; }
  bool faulted() const { return !faults_.empty(); }
  // Master, waiting for the local server before adding the VIPs.
  bool vips_pending() const { return vips_pending_; }
  // Master_Down_Timer fired but the takeover guard holds the router back.
  bool takeover_held() const { return takeover_pending_; }
  // When and from whom we last heard another master (its last advert,
  // priority 0 included): when "the master went quiet".
  std::optional<TimePoint> last_master_heard() const { return last_master_heard_; }
  const std::optional<IpAddress>& last_master() const { return last_master_; }
  // The router has decided its role once: it has been master, or it has
  // heard another master. Before that (start-up) it must not fence.
  bool decided() const { return decided_; }
  Centiseconds master_adver_interval() const { return master_adver_interval_; }
  // RFC 5798 6.1: Skew_Time and Master_Down_Interval from the current
  // Master_Adver_Interval (v3) or Advertisement_Interval (v2).
  Duration skew_time() const;
  Duration master_down_interval() const;

  // The advert we send, at the given priority.
  Advert make_advert(uint8_t priority) const;

 private:
  // Why the master is gone, for the transition's reason: it resigned, or
  // it went quiet.
  std::string master_gone_reason() const;
  void become_master(TimePoint now, Cause cause, std::string reason, Actions& out);
  void become_backup(TimePoint now, Cause cause, std::string reason, Actions& out);
  void set_state(State to, Cause cause, std::string reason, Actions& out);
  // Leaves master or backup: resigns (priority 0) if master, drops VIPs we
  // hold, cancels the timers.
  void stand_down(Actions& out);
  void learn_master_interval(const Advert& advert);
  void leave_fault(TimePoint now, std::string reason, Actions& out);
  Cause master_gone_cause() const;
  void add_vips_now(Actions& out);
  bool sender_wins(const Advert& advert, const IpAddress& source) const;
  // Notes `source` as the master this router now follows, heard at `now`.
  void follow(TimePoint now, const Advert& advert, const IpAddress& source);
  // The advert comes from another router than the master we follow, ranks
  // below it, and that master has been heard within Master_Down_Interval.
  bool ranks_below_followed_master(TimePoint now, const Advert& advert,
                                   const IpAddress& source) const;

  RouterParams params_;
  IpAddress primary_address_;
  State state_ = State::initialize;
  Centiseconds master_adver_interval_;
  std::optional<TimePoint> master_down_timer_;
  std::optional<TimePoint> adver_timer_;
  // When we last answered a lower-priority master (rate limit, receive()).
  std::optional<TimePoint> last_lower_answer_;
  bool holding_stale_vips_ = false;
  std::optional<IpAddress> resigned_master_;  // sent priority 0 while we were backup
  uint8_t priority_;
  std::map<std::string, std::string, std::less<>> faults_;  // source -> reason
  std::optional<std::string> takeover_blocker_;
  std::optional<std::string> yield_blocker_;
  std::optional<IpAddress> yield_refused_to_;  // the last sender told about it
  std::optional<std::string> reclaim_blocker_;
  bool reclaim_held_ = false;  // an announcement the reclaim guard holds back
  bool takeover_pending_ = false;
  bool serving_ = false;
  bool vips_pending_ = false;
  std::optional<TimePoint> serving_deadline_;
  std::optional<TimePoint> last_master_heard_;
  std::optional<IpAddress> last_master_;
  uint8_t last_master_priority_ = 0;  // of its last advert; 0: it resigned
  bool decided_ = false;
};

}  // namespace pgvrrpd::vrrp
