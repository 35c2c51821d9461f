// ExecChecker driven by a real EventLoop, running shell scripts written to a
// temporary directory.
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "checkers/exec_checker.h"
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
  void run_until(const std::function<bool()>& done, Duration limit) {
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
  ExecChecker checker(h.loop, "ok", {{dir.script("ok", "exit 0\n")}, milliseconds(1000),
                                     milliseconds(1000), 1, 1});
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); }, milliseconds(900));
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
  CHECK(h.events[0].reason.find("exited with status 0") != std::string::npos);
  CHECK(checker.passing());
  CHECK(checker.runs() == 1);
}

TEST_CASE("exec checker: a non-zero exit fails, with the status in the reason") {
  TempDir dir;
  Harness h;
  ExecChecker checker(h.loop, "flip", {{plan_script(dir, {0, 3})}, milliseconds(20),
                                       milliseconds(1000), 1, 1});
  h.watch(checker);
  checker.start();
  h.run_until([&] { return h.events.size() >= 2; }, milliseconds(2000));
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
  ExecChecker checker(h.loop, "rf", {{plan_script(dir, {0, 0, 1, 0, 1, 1, 0, 0, 0})},
                                     milliseconds(20), milliseconds(1000), 2, 2});
  h.watch(checker);
  checker.start();
  h.run_until([&] { return h.events.size() >= 3; }, milliseconds(3000));
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
  // The script leaves a child in its group and hangs.
  std::string script = dir.script("hang", "sleep 100 &\necho $! > " + d + "/child\n"
                                          "echo $$ > " + d + "/leader\nsleep 100\n");
  // A check starts failing, so this failure changes no verdict; the next
  // test sees one reported.
  ExecChecker checker(h.loop, "hang", {{script}, milliseconds(10000), milliseconds(200), 1, 1});
  h.watch(checker);
  TimePoint started = h.loop.now();
  checker.start();
  h.run_until([&] { return checker.runs() == 1 && !checker.running(); }, milliseconds(3000));
  Duration took = h.loop.now() - started;
  CHECK_FALSE(checker.running());
  CHECK(took >= milliseconds(200));
  CHECK(took < milliseconds(2000));
  CHECK_FALSE(checker.passing());
  pid_t leader = std::stoi(dir.read("leader"));
  pid_t child = std::stoi(dir.read("child"));
  CHECK(process_gone(leader));
  // The orphaned sleep is SIGKILLed with the group; give init a moment.
  for (int i = 0; i < 100 && !process_gone(child); ++i) usleep(10'000);
  CHECK(process_gone(child));
}

TEST_CASE("exec checker: a timeout after passing is reported as a failure") {
  TempDir dir;
  Harness h;
  // Run 1 passes at once, run 2 hangs past the timeout.
  std::string d = dir.path.string();
  std::string script = dir.script(
      "second-hangs", "n=$(cat " + d + "/count 2>/dev/null || echo 0)\n"
                      "echo $((n + 1)) > " + d + "/count\n"
                      "[ $n -eq 0 ] && exit 0\nexec sleep 100\n");
  ExecChecker checker(h.loop, "t", {{script}, milliseconds(50), milliseconds(150), 1, 1});
  h.watch(checker);
  checker.start();
  h.run_until([&] { return h.events.size() >= 2; }, milliseconds(3000));
  REQUIRE(h.events.size() == 2);
  CHECK(h.events[0].passing);
  CHECK_FALSE(h.events[1].passing);
  CHECK(h.events[1].reason.find("timed out after 0.15 s") != std::string::npos);
}

TEST_CASE("exec checker: never two runs at once") {
  TempDir dir;
  Harness h;
  // Each run takes 0.15 s; the interval is 0.02 s.
  ExecChecker checker(h.loop, "slow", {{plan_script(dir, {}, "0.15")}, milliseconds(20),
                                       milliseconds(2000), 1, 1});
  h.watch(checker);
  checker.start();
  h.run_until([&] { return checker.runs() >= 3 && !checker.running(); }, milliseconds(3000));
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
  CHECK(lines == 2 * static_cast<int>(checker.runs()));
}

TEST_CASE("exec checker: a finished run's leftovers in its group are killed") {
  TempDir dir;
  Harness h;
  std::string d = dir.path.string();
  std::string script = dir.script("leave", "sleep 100 &\necho $! > " + d + "/child\nexit 0\n");
  ExecChecker checker(h.loop, "leave", {{script}, milliseconds(10000), milliseconds(2000), 1, 1});
  h.watch(checker);
  checker.start();
  h.run_until([&] { return !h.events.empty(); }, milliseconds(2000));
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].passing);
  pid_t child = std::stoi(dir.read("child"));
  for (int i = 0; i < 100 && !process_gone(child); ++i) usleep(10'000);
  CHECK(process_gone(child));
}

TEST_CASE("exec checker: a command that cannot start counts as a failure") {
  Harness h;
  // rise 1: a pass would be reported at once; the missing file never passes.
  ExecChecker checker(h.loop, "missing", {{"/nonexistent/check"}, milliseconds(20),
                                          milliseconds(1000), 1, 1});
  h.watch(checker);
  checker.start();
  h.run_until([&] { return checker.runs() >= 3; }, milliseconds(2000));
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
      h.loop, "hang", ExecParams{{script}, milliseconds(10000), milliseconds(10000), 1, 1});
  checker->start();
  h.run_until([&] { return dir.read("leader").ends_with("\n"); }, milliseconds(2000));
  REQUIRE(checker->running());
  pid_t leader = std::stoi(dir.read("leader"));
  checker.reset();
  // Reaped by the destructor: not even a zombie is left.
  CHECK(kill(leader, 0) == -1);
}

}  // namespace pgvrrpd::checkers
