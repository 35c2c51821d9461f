// ExecChecker driven by a real EventLoop, running shell scripts written to a
// temporary directory. The loop runs until a condition holds; the time
// limits are safety nets for a broken checker, not timing assertions.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "checkers/exec_checker.h"
#include "runtime_skip.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd::checkers {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "pgvrrpd-exec-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() { fs::remove_all(path); }
  // Writes an executable /bin/sh script; returns its path.
  std::string script(const std::string& name, const std::string& body) const {
    fs::path file = path / name;
    std::ofstream(file) << "#!/bin/sh\n" << body;
    fs::permissions(file, fs::perms::owner_all);
    return file.string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path / name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

// A script that exits with the codes in `plan`, one per run, then 0; and
// logs "start"/"end" around an optional sleep.
std::string plan_script(const TempDir& dir, const std::vector<int>& plan,
                        const std::string& sleep = "0") {
  std::string codes;
  for (int c : plan) codes += std::to_string(c) + "\n";
  std::ofstream(dir.path / "plan") << codes;
  std::string d = dir.path.string();
  return dir.script("check", "n=$(cat " + d + "/count 2>/dev/null || echo 0)\n"
                             "echo $((n + 1)) > " + d + "/count\n"
                             "echo start >> " + d + "/log\n"
                             "sleep " + sleep + "\n"
                             "echo end >> " + d + "/log\n"
                             "code=$(sed -n \"$((n + 1))p\" " + d + "/plan)\n"
                             "exit ${code:-0}\n");
}

// One command with no arguments, as the daemon's own user.
ExecParams exec_params(std::string command, Duration interval, Duration timeout, uint32_t rise,
                       uint32_t fall, std::optional<notify::RunAs> run_as = std::nullopt) {
  ExecParams p;
  p.argv = {std::move(command)};
  p.interval = interval;
  p.timeout = timeout;
  p.rise = rise;
  p.fall = fall;
  p.run_as = std::move(run_as);
  return p;
}

struct Event {
  bool passing;
  std::string reason;
  uint64_t runs;  // the checker's run count when it was reported
};

struct Harness {
  EventLoop loop;
  std::vector<Event> events;
  Harness() { REQUIRE(loop.open()); }

  void watch(ExecChecker& checker) {
    checker.set_listener([this, &checker](bool passing, const std::string& reason) {
      events.push_back({passing, reason, checker.runs()});
    });
  }

  // Runs the loop until done() or `limit` passes.
  void run_until(const std::function<bool()>& done, Duration limit = std::chrono::seconds(10)) {
    TimePoint deadline = loop.now() + limit;
    Timer* self = nullptr;
    Timer poll(loop, [&] {
      if (done() || loop.now() >= deadline) {
        loop.stop();
        return;
      }
      self->arm(loop.now() + milliseconds(5));
    });
    self = &poll;
    poll.arm(loop.now());
    REQUIRE(loop.run());
  }
};

bool process_gone(pid_t pid) {
  // Gone, or a zombie waiting for whoever reaps orphans here.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  auto close = text.rfind(')');
  return close != std::string::npos && text.size() > close + 2 && text[close + 2] == 'Z';
}

}  // namespace

TEST_CASE("exec checker: exit 0 passes, the first run starts at once") {
  TempDir dir;
  Harness h;
  // Were the first run to wait for the interval, it would come after the
  // loop's 10 s limit.
  ExecChecker checker(h.loop, "ok",
                      exec_params(dir.script("ok", "exit 0\n"), std::chrono::seconds(60),
                                  milliseconds(1000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); });
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
  CHECK(h.events[0].reason.find("exited with status 0") != std::string::npos);
  CHECK(checker.passing());
  CHECK(checker.runs() == 1);
}

TEST_CASE("exec checker: a non-zero exit fails, with the status in the reason") {
  TempDir dir;
  Harness h;
  ExecChecker checker(
      h.loop, "flip",
      exec_params(plan_script(dir, {0, 3}), milliseconds(20), milliseconds(1000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return h.events.size() >= 2; });
  REQUIRE(h.events.size() >= 2);
  CHECK(h.events[0].passing);
  CHECK_FALSE(h.events[1].passing);
  CHECK(h.events[1].reason.find("exited with status 3") != std::string::npos);
  CHECK(h.events[1].runs == 2);
}

TEST_CASE("exec checker: rise and fall transitions reach the listener") {
  TempDir dir;
  Harness h;
  // rise 2, fall 2: pass after runs 1-2, a lone failure (3) is ignored,
  // fail after 5-6, pass again after 7-8.
  ExecChecker checker(h.loop, "rf",
                      exec_params(plan_script(dir, {0, 0, 1, 0, 1, 1, 0, 0, 0}), milliseconds(20),
                                  milliseconds(1000), 2, 2));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return h.events.size() >= 3; });
  REQUIRE(h.events.size() == 3);
  CHECK(h.events[0].passing);
  CHECK(h.events[0].runs == 2);
  CHECK_FALSE(h.events[1].passing);
  CHECK(h.events[1].runs == 6);
  CHECK(h.events[2].passing);
  CHECK(h.events[2].runs == 8);
}

TEST_CASE("exec checker: a run past its timeout is killed with its process group") {
  TempDir dir;
  Harness h;
  std::string d = dir.path.string();
  // The script leaves a child in its group, which leaves a grandchild, and
  // hangs. 1 s is for the three to start on a loaded machine.
  std::string script = dir.script(
      "hang", "sh -c 'sleep 100 & echo $! > " + d + "/grandchild; wait' &\n"
              "echo $! > " + d + "/child\n"
              "echo $$ > " + d + "/leader\n"
              "sleep 100\n");
  ExecChecker checker(h.loop, "hang",
                      exec_params(script, std::chrono::seconds(60), milliseconds(1000), 1, 1));
  h.watch(checker);
  TimePoint started = h.loop.now();
  checker.start();
  h.run_until([&] { return checker.runs() == 1 && !checker.running(); });
  CHECK_FALSE(checker.running());
  CHECK(h.loop.now() - started >= milliseconds(1000));
  // The first verdict: failing, by the timeout.
  REQUIRE(h.events.size() == 1);
  CHECK_FALSE(h.events[0].passing);
  CHECK(h.events[0].reason == script + " timed out after 1 s, killed");
  CHECK_FALSE(checker.passing());
  pid_t leader = std::stoi(dir.read("leader"));
  pid_t child = std::stoi(dir.read("child"));
  pid_t grandchild = std::stoi(dir.read("grandchild"));
  CHECK(process_gone(leader));
  // The orphans are SIGKILLed with the group; give init a moment.
  for (int i = 0; i < 500 && !(process_gone(child) && process_gone(grandchild)); ++i)
    usleep(10'000);
  CHECK(process_gone(child));
  CHECK(process_gone(grandchild));
}

TEST_CASE("exec checker: a timeout after passing is reported as a failure") {
  TempDir dir;
  Harness h;
  // Run 1 passes at once (well within the 1 s timeout), run 2 hangs past it.
  std::string d = dir.path.string();
  std::string script = dir.script(
      "second-hangs", "n=$(cat " + d + "/count 2>/dev/null || echo 0)\n"
                      "echo $((n + 1)) > " + d + "/count\n"
                      "[ $n -eq 0 ] && exit 0\nexec sleep 100\n");
  ExecChecker checker(h.loop, "t", exec_params(script, milliseconds(50), milliseconds(1000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return h.events.size() >= 2; });
  REQUIRE(h.events.size() == 2);
  CHECK(h.events[0].passing);
  CHECK_FALSE(h.events[1].passing);
  CHECK(h.events[1].reason.find("timed out after 1 s") != std::string::npos);
}

TEST_CASE("exec checker: never two runs at once") {
  TempDir dir;
  Harness h;
  // Each run takes 0.15 s; the interval is 0.02 s.
  ExecChecker checker(
      h.loop, "slow",
      exec_params(plan_script(dir, {}, "0.15"), milliseconds(20), milliseconds(2000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return checker.runs() >= 3 && !checker.running(); });
  CHECK(checker.runs() >= 3);
  CHECK(checker.skipped() > 0);
  // The runs' log is strictly start, end, start, end...
  std::istringstream log(dir.read("log"));
  std::string line, expect = "start";
  int lines = 0;
  while (std::getline(log, line)) {
    CHECK(line == expect);
    expect = expect == "start" ? "end" : "start";
    ++lines;
  }
  // Every run counted ran the script to its end, or failed to start and
  // said why (a verdict with the reason), so "lines" can fall short of
  // 2 * runs only with a failing verdict to show for it.
  CHECK(lines % 2 == 0);
  CHECK(lines >= 6);
  for (const auto& e : h.events) {
    CAPTURE(e.reason);
    CHECK(e.passing);
  }
}

TEST_CASE("exec checker: a finished run's leftovers in its group are killed") {
  TempDir dir;
  Harness h;
  std::string d = dir.path.string();
  std::string script = dir.script("leave", "sleep 100 &\necho $! > " + d + "/child\nexit 0\n");
  ExecChecker checker(h.loop, "leave",
                      exec_params(script, milliseconds(10000), milliseconds(2000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); });
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
  pid_t child = std::stoi(dir.read("child"));
  for (int i = 0; i < 100 && !process_gone(child); ++i) usleep(10'000);
  CHECK(process_gone(child));
}

TEST_CASE("exec checker: a command that cannot start counts as a failure") {
  Harness h;
  // rise 1: a pass would be reported at once; the missing file never passes.
  ExecChecker checker(
      h.loop, "missing",
      exec_params("/nonexistent/check", milliseconds(20), milliseconds(1000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return checker.runs() >= 3; });
  CHECK(checker.runs() >= 3);
  // The first failure decides the unknown verdict (fall 1); no more after.
  REQUIRE(h.events.size() == 1);
  CHECK_FALSE(h.events[0].passing);
  CHECK_FALSE(checker.passing());
  CHECK_FALSE(checker.running());
}

TEST_CASE("exec checker: destroying a checker kills its running command") {
  TempDir dir;
  Harness h;
  std::string d = dir.path.string();
  std::string script = dir.script("hang", "echo $$ > " + d + "/leader\nexec sleep 100\n");
  auto checker = std::make_unique<ExecChecker>(
      h.loop, "hang", exec_params(script, milliseconds(10000), milliseconds(10000), 1, 1));
  checker->start();
  h.run_until([&] { return dir.read("leader").ends_with("\n"); });
  REQUIRE(checker->running());
  pid_t leader = std::stoi(dir.read("leader"));
  checker.reset();
  // Reaped by the destructor: not even a zombie is left.
  CHECK(kill(leader, 0) == -1);
}

TEST_CASE("exec checker: the command gets the base environment, none of the daemon's") {
  TempDir dir;
  Harness h;
  setenv("PGVRRPD_TEST_LEAK", "1", 1);  // in the daemon's environment only
  std::string script = dir.script("env", "env | sort > " + dir.path.string() + "/env\n");
  ExecChecker checker(h.loop, "env",
                      exec_params(script, std::chrono::seconds(60), milliseconds(5000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); });
  unsetenv("PGVRRPD_TEST_LEAK");
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
  // dash adds PWD (the command runs in /); the rest is notify's base
  // environment, as hooks get it.
  CHECK(dir.read("env") == "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nPWD=/\n");
}

TEST_CASE("exec checker: the command inherits none of the daemon's descriptors") {
  TempDir dir;
  Harness h;
  // As the daemon's sockets: open without O_CLOEXEC. Numbered 100 or more,
  // clear of the fds dash uses for itself (10 and up).
  int opened = open("/dev/null", O_RDONLY);
  REQUIRE(opened >= 0);
  int leaky = fcntl(opened, F_DUPFD, 100);
  close(opened);
  REQUIRE(leaky >= 100);
  REQUIRE((fcntl(leaky, F_GETFD) & FD_CLOEXEC) == 0);
  std::string fd = "/proc/$$/fd/" + std::to_string(leaky);
  // The check passes only when the descriptor is closed in the command.
  std::string script = dir.script(
      "fds", "if [ -e " + fd + " ]; then echo open > " + dir.path.string() + "/fd; exit 1; fi\n"
             "echo closed > " + dir.path.string() + "/fd\n");
  ExecChecker checker(h.loop, "fds",
                      exec_params(script, std::chrono::seconds(60), milliseconds(5000), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); });
  close(leaky);
  CHECK(dir.read("fd") == "closed\n");
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
}

TEST_CASE("exec checker: output beyond the pipe buffer neither blocks the command nor fails it") {
  TempDir dir;
  Harness h;
  // 256 KiB on stdout and on stderr, four times a pipe's buffer: unread, the
  // command would block into its timeout.
  std::string script = dir.script("chatty", "yes 0123456789abcdef | head -c 262144\n"
                                            "yes 0123456789abcdef | head -c 262144 >&2\n"
                                            "exit 0\n");
  ExecChecker checker(
      h.loop, "chatty",
      exec_params(script, std::chrono::seconds(60), std::chrono::seconds(10), 1, 1));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); }, std::chrono::seconds(20));
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
  CHECK(h.events[0].reason == script + " exited with status 0");
}

TEST_CASE("exec checker: the command runs as hook_user") {
  SKIP_UNLESS_ROOT("setpriv to another user");
  TempDir dir;
  Harness h;
  // nobody must reach the script and write its answer.
  fs::permissions(dir.path, fs::perms::all);
  std::string script = dir.script("whoami", "echo \"$(id -u) $(id -g)\" > " + dir.path.string() +
                                            "/id\n");
  fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  auto nobody = notify::resolve_hook_user("nobody");
  REQUIRE(nobody.is_ok());
  ExecChecker checker(
      h.loop, "id",
      exec_params(script, std::chrono::seconds(60), milliseconds(5000), 1, 1, *nobody));
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); });
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
  CHECK(dir.read("id") == "65534 65534\n");
}

}  // namespace pgvrrpd::checkers
