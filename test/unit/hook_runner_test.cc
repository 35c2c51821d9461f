// HookRunner and Subprocess against real processes on a real EventLoop:
// /bin/sh scripts in a temp dir (the runner does not check script security;
// config does). The loop runs until a condition holds or a deadline passes.
#include "notify/hook_runner.h"

#include <doctest/doctest.h>
#include <dirent.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "log_capture.h"
#include "runtime_skip.h"

namespace pgvrrpd::notify {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Outcome = HookResult::Outcome;
using pgvrrpd::testing::LogCapture;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Processes (zombies included) whose process group is `pgid`.
std::vector<pid_t> group_members(pid_t pgid) {
  std::vector<pid_t> members;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    pid_t pid = std::atoi(entry.path().filename().c_str());
    if (pid <= 0) continue;
    std::string stat = read_file(entry.path() / "stat");
    auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));
    std::string state;
    pid_t ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid) members.push_back(pid);
  }
  return members;
}

// Reaps adopted orphans (we are a subreaper) until nothing is left in the
// group or 5 s pass; returns whether the group is empty.
bool reap_group(pid_t pgid) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!group_members(pgid).empty() && std::chrono::steady_clock::now() < deadline) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    usleep(10'000);
  }
  return group_members(pgid).empty();
}

struct Fixture {
  EventLoop loop;
  fs::path dir;
  HookSetup config;
  std::vector<HookResult> results;
  std::vector<std::pair<Stream, std::string>> output;

  Fixture() {
    REQUIRE(loop.open().is_ok());
    char tmpl[] = "/tmp/pgvrrpd-hooktest-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    config.id = {"pg", 51};
    config.timeout = 5s;
    config.kill_grace = 300ms;
  }
  ~Fixture() { fs::remove_all(dir); }

  // Writes an executable /bin/sh script and returns it as a Command.
  Command script(const std::string& name, const std::string& body) {
    fs::path path = dir / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), 0755);
    return Command{{path.string()}};
  }

  std::unique_ptr<HookRunner> runner() {
    auto r = std::make_unique<HookRunner>(loop, config);
    r->set_listener([this](const HookResult& result) { results.push_back(result); });
    r->set_output_listener([this](HookKind, Stream stream, std::string_view line) {
      output.emplace_back(stream, std::string(line));
    });
    return r;
  }

  // Runs the loop until `done()` or `limit` passes; returns done().
  template <class Done>
  bool run_until(Done done, Duration limit = 10s) {
    TimePoint deadline = loop.now() + limit;
    Timer* self = nullptr;
    Timer poll(loop, [&] {
      if (done() || loop.now() >= deadline)
        loop.stop();
      else
        self->arm(loop.now() + 5ms);
    });
    self = &poll;
    poll.arm(loop.now());
    REQUIRE(loop.run().is_ok());
    return done();
  }
};

HookEvent event(HookState state, uint8_t priority = 150) {
  HookEvent e;
  e.state = state;
  e.previous_state = "BACKUP";
  e.reason = "test";
  e.priority = priority;
  e.vips = {"198.51.100.210/24"};
  e.pg.role = "standby";
  e.pg.lsn = "0/3000148";
  return e;
}

TEST_CASE("hook runner: the state hook then notify, with keepalived arguments and a clean env") {
  Fixture f;
  setenv("PGVRRPD_TEST_LEAK", "1", 1);  // must not reach the hook
  std::string record = "echo \"$0 $*\" >> " + (f.dir / "calls").string() + "; env | sort > " +
                       (f.dir).string() + "/env.$PGVRRPD_HOOK";
  f.config.command(HookKind::on_master) = f.script("master.sh", record);
  f.config.command(HookKind::notify) = f.script("notify.sh", record);
  f.config.extra_env = {{"PGDATA", "/var/lib/postgresql/16/main"}};
  auto runner = f.runner();
  CHECK(runner->transition(event(HookState::master)) == 1);
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  unsetenv("PGVRRPD_TEST_LEAK");

  REQUIRE(f.results.size() == 2);
  CHECK(f.results[0].kind == HookKind::on_master);
  CHECK(f.results[1].kind == HookKind::notify);
  for (const auto& r : f.results) {
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.success());
    CHECK(r.transition == 1);
    CHECK(r.state == HookState::master);
    CHECK(r.pid > 0);
  }
  CHECK(read_file(f.dir / "calls") == (f.dir / "master.sh").string() + " INSTANCE pg MASTER 150\n" +
                                          (f.dir / "notify.sh").string() + " INSTANCE pg MASTER 150\n");
  std::string env = read_file(f.dir / "env.on_master");
  // dash adds PWD (cwd is /); everything else is ours.
  CHECK(env ==
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
        "PGDATA=/var/lib/postgresql/16/main\n"
        "PGVRRPD_HOOK=on_master\n"
        "PGVRRPD_MASTER=\n"
        "PGVRRPD_PEER=\n"
        "PGVRRPD_PEER_PORT=\n"
        "PGVRRPD_PG_LAG_BYTES=\n"
        "PGVRRPD_PG_LSN=0/3000148\n"
        "PGVRRPD_PG_ROLE=standby\n"
        "PGVRRPD_PG_TIMELINE=\n"
        "PGVRRPD_PREVIOUS_STATE=BACKUP\n"
        "PGVRRPD_PRIORITY=150\n"
        "PGVRRPD_REASON=test\n"
        "PGVRRPD_ROUTER=pg\n"
        "PGVRRPD_STATE=MASTER\n"
        "PGVRRPD_SYNC_BLOCKER=\n"
        "PGVRRPD_SYNC_CHANGES=0\n"
        "PGVRRPD_SYNC_MODE=\n"
        "PGVRRPD_SYNC_STATE=\n"
        "PGVRRPD_VIPS=198.51.100.210/24\n"
        "PGVRRPD_VRID=51\n"
        "PWD=/\n");
  CHECK(read_file(f.dir / "env.notify").find("PGVRRPD_HOOK=notify\n") != std::string::npos);
}

TEST_CASE("hook runner: stdout and stderr are captured line by line, partial last line too") {
  Fixture f;
  f.config.command(HookKind::on_backup) =
      f.script("out.sh", "echo one; echo two >&2; echo three; printf 'four'; printf 'five' >&2");
  auto runner = f.runner();
  runner->transition(event(HookState::backup));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  std::vector<std::string> out, err;
  for (const auto& [stream, line] : f.output) (stream == Stream::out ? out : err).push_back(line);
  CHECK(out == std::vector<std::string>{"one", "three", "four"});
  CHECK(err == std::vector<std::string>{"two", "five"});
}

TEST_CASE("hook runner: output beyond the pipe buffer neither blocks the hook nor is lost") {
  Fixture f;
  f.config.command(HookKind::on_master) = f.script("big.sh", "yes 0123456789 | head -n 20000");
  auto runner = f.runner();
  runner->transition(event(HookState::master));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].success());
  CHECK(f.output.size() == 20000);
}

TEST_CASE("hook runner: a run logs its first kMaxLoggedLines output lines and counts the rest") {
  LogCapture log;
  Fixture f;
  f.config.command(HookKind::on_master) = f.script("chatty.sh", "yes 0123456789 | head -n 20000");
  auto runner = f.runner();
  runner->transition(event(HookState::master));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  CHECK(log.count("on_master: 0123456789") == HookRunner::kMaxLoggedLines);
  CHECK(log.count("on_master: 19800 more output lines not logged (at most 200 per run)") == 1);
  // The next run starts with a fresh allowance.
  runner->transition(event(HookState::master));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  CHECK(log.count("on_master: 0123456789") == 2 * HookRunner::kMaxLoggedLines);
}

TEST_CASE("hook runner: exit status and death by signal are reported") {
  Fixture f;
  f.config.command(HookKind::on_fault) = f.script("fail.sh", "exit 3");
  f.config.command(HookKind::notify) = f.script("kill.sh", "kill -KILL $$");
  auto runner = f.runner();
  runner->transition(event(HookState::fault));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  REQUIRE(f.results.size() == 2);
  CHECK(f.results[0].outcome == Outcome::exited);
  CHECK_FALSE(f.results[0].success());
  CHECK_FALSE(f.results[0].status.signaled);
  CHECK(f.results[0].status.code == 3);
  CHECK(f.results[0].status.describe() == "exited with status 3");
  CHECK(f.results[1].status.signaled);
  CHECK(f.results[1].status.code == SIGKILL);
  CHECK(f.results[1].status.describe() == "killed by signal 9 (Killed)");
}

TEST_CASE("hook runner: a hook that cannot start is reported and the next one still runs") {
  Fixture f;
  f.config.command(HookKind::on_master) = Command{{(f.dir / "missing.sh").string()}};
  f.config.command(HookKind::notify) = f.script("n.sh", "exit 0");
  auto runner = f.runner();
  runner->transition(event(HookState::master));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  REQUIRE(f.results.size() == 2);
  CHECK(f.results[0].outcome == Outcome::spawn_failed);
  CHECK(f.results[0].error.find("No such file or directory") != std::string::npos);
  CHECK(f.results[0].pid == -1);
  CHECK(f.results[1].success());
}

TEST_CASE("hook runner: a hung hook is killed with its whole process group at the timeout") {
  // Orphans of the hook are re-parented to us rather than to a PID 1 that
  // may not reap, so the test can reap them and see nothing is left.
  REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  Fixture f;
  f.config.timeout = 300ms;
  f.config.kill_grace = 300ms;
  std::string pidfile = (f.dir / "child.pid").string();
  f.config.command(HookKind::on_master) =
      f.script("hang.sh", "(trap '' TERM; sleep 100) & echo $! > " + pidfile + "; sleep 100");
  auto runner = f.runner();
  TimePoint start = f.loop.now();
  runner->transition(event(HookState::master));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  REQUIRE(f.results.size() == 1);
  const HookResult& r = f.results[0];
  CHECK(r.outcome == Outcome::timed_out);
  CHECK_FALSE(r.success());
  // The shell dies of SIGTERM; its child ignoring SIGTERM waits for SIGKILL.
  CHECK(r.status.signaled);
  CHECK(r.status.code == SIGTERM);
  CHECK(f.loop.now() - start >= 600ms);
  pid_t child = std::atoi(read_file(pidfile).c_str());
  REQUIRE(child > 0);

  // The orphaned child (now SIGKILLed) is reaped; nothing is left.
  CHECK(reap_group(r.pid));
  CHECK(kill(child, 0) == -1);
}

TEST_CASE("hook runner: a hook that outlives SIGKILL is given up on, and the next hooks run") {
  // In the field: a fence stuck in the kernel (state D) on a dead disk or a
  // hung NFS mount, which even SIGKILL does not end. Here: a hook that left
  // its process group, which the group's signals then miss.
  LogCapture log;
  Fixture f;
  f.config.timeout = 300ms;
  f.config.kill_grace = 100ms;
  f.config.death_wait = 300ms;
  std::string pidfile = (f.dir / "stuck.pid").string();
  f.config.command(HookKind::fence) = f.script(
      "stuck.sh", "echo $$ > " + pidfile +
                      "; exec /usr/bin/perl -MPOSIX -e "
                      "'POSIX::setpgid(0, getpgrp(getppid())) or die; sleep 100'");
  std::string ran = (f.dir / "ran").string();
  f.config.command(HookKind::on_backup) = f.script("backup.sh", "touch " + ran);
  auto runner = f.runner();
  TimePoint start = f.loop.now();
  runner->run_hook(HookKind::fence, event(HookState::fault));
  runner->transition(event(HookState::backup));  // waits for the fence
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  REQUIRE(f.results.size() == 2);
  const HookResult& stuck = f.results[0];
  CHECK(stuck.kind == HookKind::fence);
  CHECK(stuck.outcome == Outcome::timed_out);
  CHECK(stuck.status.code == -1);  // unknown: it never ended
  CHECK(f.loop.now() - start >= 700ms);
  CHECK(f.results[1].kind == HookKind::on_backup);
  CHECK(f.results[1].success());
  CHECK(fs::exists(ran));
  CHECK(runner->abandoned() == 1);
  CHECK(log.count("fence (pid " + std::to_string(stuck.pid) +
                  ") still there 0.300s after SIGKILL: stuck in the kernel") == 1);

  // When it does end, it is reaped.
  pid_t pid = std::atoi(read_file(pidfile).c_str());
  REQUIRE(pid == stuck.pid);
  REQUIRE(kill(pid, SIGKILL) == 0);
  REQUIRE(f.run_until([&] { return runner->abandoned() == 0; }));
  CHECK(log.count("the hook given up on (pid " + std::to_string(pid) +
                  ") has ended: killed by signal 9") == 1);
  CHECK(kill(pid, 0) == -1);
}

// Takes one capability out of this thread's effective set for its lifetime
// (it stays permitted, so it comes back): pgvrrpd under a systemd unit
// whose CapabilityBoundingSet lacks it.
class EffectiveCapabilityDropped {
 public:
  explicit EffectiveCapabilityDropped(int cap) : cap_(cap) { change(false); }
  ~EffectiveCapabilityDropped() { change(true); }
  EffectiveCapabilityDropped(const EffectiveCapabilityDropped&) = delete;
  EffectiveCapabilityDropped& operator=(const EffectiveCapabilityDropped&) = delete;

 private:
  void change(bool on) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    REQUIRE(syscall(SYS_capget, &header, data) == 0);
    uint32_t bit = 1u << (cap_ % 32);
    if (on)
      data[cap_ / 32].effective |= bit;
    else
      data[cap_ / 32].effective &= ~bit;
    REQUIRE(syscall(SYS_capset, &header, data) == 0);
  }
  int cap_;
};

TEST_CASE("hook runner: a hook it may not kill (no CAP_KILL) is reported, given up on, and "
          "the next hooks run") {
  SKIP_UNLESS_ROOT("starting a hook as another user");
  LogCapture log;
  Fixture f;
  f.config.timeout = 300ms;
  f.config.kill_grace = 100ms;
  f.config.death_wait = 300ms;
  std::string pidfile = (f.dir / "other-user.pid").string();
  // As hook_user = nobody would run it, through setpriv.
  f.config.command(HookKind::fence) = f.script(
      "other_user.sh",
      "echo $$ > " + pidfile + "; exec /usr/bin/setpriv --reuid=65534 --regid=65534 "
                               "--clear-groups /bin/sleep 100");
  std::string ran = (f.dir / "ran").string();
  f.config.command(HookKind::on_backup) = f.script("backup.sh", "touch " + ran);
  auto runner = f.runner();
  pid_t pid = 0;
  {
    EffectiveCapabilityDropped no_kill(CAP_KILL);
    runner->run_hook(HookKind::fence, event(HookState::fault));
    runner->transition(event(HookState::backup));
    REQUIRE(f.run_until([&] { return runner->idle(); }));
  }
  REQUIRE(f.results.size() == 2);
  const HookResult& unkillable = f.results[0];
  pid = unkillable.pid;
  CHECK(unkillable.outcome == Outcome::timed_out);
  CHECK(unkillable.status.code == -1);
  CHECK(f.results[1].success());
  CHECK(fs::exists(ran));
  std::string group = "kill process group " + std::to_string(pid) + ": Operation not permitted";
  CHECK(log.count("cannot stop fence (pid " + std::to_string(pid) + ") with SIGTERM: " + group +
                  " (pgvrrpd needs CAP_KILL") == 1);
  CHECK(log.count("with SIGKILL: " + group) == 1);
  CHECK(log.count("could not be killed and still runs 0.300s later") == 1);
  CHECK(log.count("stuck in the kernel") == 0);
  // Still running as nobody; with CAP_KILL back, the test ends it.
  REQUIRE(kill(pid, 0) == 0);
  REQUIRE(kill(pid, SIGKILL) == 0);
  REQUIRE(f.run_until([&] { return runner->abandoned() == 0; }));
}

TEST_CASE("hook runner: transitions arriving while a hook runs supersede all but the newest") {
  Fixture f;
  std::string log = (f.dir / "log").string();
  auto state_hook = f.script("state.sh", "echo \"$3 start\" >> " + log +
                                             "; [ \"$3\" = MASTER ] && sleep 0.3; echo \"$3 end\" >> " + log);
  f.config.command(HookKind::on_master) = state_hook;
  f.config.command(HookKind::on_backup) = state_hook;
  f.config.command(HookKind::on_fault) = state_hook;
  f.config.command(HookKind::notify) = f.script("notify.sh", "echo \"notify $3\" >> " + log);
  auto runner = f.runner();
  runner->transition(event(HookState::master));   // starts on_master now
  runner->transition(event(HookState::backup));   // waits
  runner->transition(event(HookState::fault));    // supersedes BACKUP
  CHECK_FALSE(runner->idle());
  REQUIRE(f.run_until([&] { return runner->idle(); }));

  CHECK(read_file(log) == "MASTER start\nMASTER end\nFAULT start\nFAULT end\nnotify FAULT\n");
  struct Seen {
    HookKind kind;
    uint64_t transition;
    Outcome outcome;
  };
  std::vector<Seen> expected = {
      // Reported as they are dropped: MASTER's notify and BACKUP's hooks
      // when BACKUP arrives; BACKUP's again when FAULT arrives.
      {HookKind::notify, 1, Outcome::superseded},
      {HookKind::on_backup, 2, Outcome::superseded},
      {HookKind::notify, 2, Outcome::superseded},
      {HookKind::on_master, 1, Outcome::exited},
      {HookKind::on_fault, 3, Outcome::exited},
      {HookKind::notify, 3, Outcome::exited},
  };
  REQUIRE(f.results.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(f.results[i].kind == expected[i].kind);
    CHECK(f.results[i].transition == expected[i].transition);
    CHECK(f.results[i].outcome == expected[i].outcome);
  }
}

TEST_CASE("hook runner: a transition without hooks still supersedes the waiting one") {
  Fixture f;
  std::string log = (f.dir / "log").string();
  f.config.command(HookKind::on_master) =
      f.script("m.sh", "echo \"$3\" >> " + log + "; sleep 0.2");
  auto runner = f.runner();
  runner->transition(event(HookState::master));
  runner->transition(event(HookState::master));  // waits
  runner->transition(event(HookState::backup));  // no on_backup, no notify
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  CHECK(read_file(log) == "MASTER\n");
  REQUIRE(f.results.size() == 2);
  CHECK(f.results[0].transition == 2);
  CHECK(f.results[0].outcome == Outcome::superseded);
  CHECK(f.results[1].transition == 1);
  CHECK(f.results[1].outcome == Outcome::exited);
}

TEST_CASE("hook runner: the completion listener may queue the next transition") {
  Fixture f;
  f.config.command(HookKind::on_master) = f.script("fail.sh", "exit 1");
  f.config.command(HookKind::on_fault) = f.script("fault.sh", "exit 0");
  auto runner = f.runner();
  // What the daemon does when promotion fails: give up and go FAULT.
  runner->set_listener([&](const HookResult& r) {
    f.results.push_back(r);
    if (r.kind == HookKind::on_master && !r.success()) runner->transition(event(HookState::fault));
  });
  runner->transition(event(HookState::master));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  REQUIRE(f.results.size() == 2);
  CHECK(f.results[1].kind == HookKind::on_fault);
  CHECK(f.results[1].success());
}

TEST_CASE("hook runner: hook_user nobody really runs as nobody") {
  Fixture f;
  chmod(f.dir.c_str(), 0755);  // mkdtemp's 0700 would keep nobody out
  auto user = resolve_hook_user("nobody");
  REQUIRE(user.is_ok());
  f.config.run_as = *user;
  f.config.command(HookKind::on_backup) = f.script("id.sh", "echo \"$(id -u) $(id -g) $1 $PGVRRPD_STATE\"");
  auto runner = f.runner();
  runner->transition(event(HookState::backup));
  REQUIRE(f.run_until([&] { return runner->idle(); }));
  REQUIRE(f.results.size() == 1);
  CHECK(f.results[0].success());
  REQUIRE(f.output.size() == 1);
  CHECK(f.output[0].second == "65534 65534 INSTANCE BACKUP");
}

TEST_CASE("hook runner: hooks get no blocked or ignored signals and none of the daemon's fds") {
  Fixture f;
  // As the daemon: signals read through signalfd are blocked, SIGPIPE ignored.
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  REQUIRE(sigprocmask(SIG_BLOCK, &block, &old_mask) == 0);
  auto old_pipe = signal(SIGPIPE, SIG_IGN);
  int leaky = open("/dev/null", O_RDONLY);  // no O_CLOEXEC
  REQUIRE(leaky >= 3);
  f.config.command(HookKind::on_master) = f.script(
      "sig.sh", "[ -e /proc/$$/fd/" + std::to_string(leaky) +
                    " ] && echo leaked || echo closed\n"
                    // exec: what a program started by the hook gets (a
                    // waiting dash blocks signals itself).
                    "exec grep -E '^Sig(Blk|Ign)' /proc/self/status");
  auto runner = f.runner();
  runner->transition(event(HookState::master));
  bool done = f.run_until([&] { return runner->idle(); });
  close(leaky);
  signal(SIGPIPE, old_pipe);
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  REQUIRE(done);
  std::vector<std::string> lines;
  for (const auto& [stream, line] : f.output) lines.push_back(line);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "closed");
  CHECK(lines[1] == "SigBlk:\t0000000000000000");
  REQUIRE(lines[2].starts_with("SigIgn:\t"));
  // Signals 1..31 only: glibc's posix_spawn leaves its two private signals
  // (32, 33) ignored, and the sigset API cannot name them to reset them.
  uint64_t ignored = std::stoull(lines[2].substr(8), nullptr, 16);
  CHECK((ignored & 0x7fffffffULL) == 0);
}

TEST_CASE("hook runner: destroying the runner kills a running hook's process group") {
  REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  Fixture f;
  f.config.command(HookKind::on_master) = f.script("long.sh", "sleep 100 & echo $$; sleep 100");
  auto runner = f.runner();
  runner->transition(event(HookState::master));
  REQUIRE(f.run_until([&] { return !f.output.empty(); }));
  pid_t pid = std::atoi(f.output[0].second.c_str());
  REQUIRE(pid > 0);
  CHECK(group_members(pid).size() >= 2);
  runner.reset();
  CHECK(kill(pid, 0) == -1);  // reaped
  CHECK(f.results.empty());   // no callback from a destructor
  CHECK(reap_group(pid));     // the background sleep too
}

}  // namespace
}  // namespace pgvrrpd::notify
