// checker_probe: runs one checker and prints each verdict change, for the
// integration tests (test/integration/test_checkers.py). Built, never
// installed.
//
//   checker_probe ping ADDRESS INTERVAL TIMEOUT RISE FALL
//   checker_probe link IFNAME
//
// Prints "<monotonic seconds> PASS|FAIL <reason>" lines, flushed; runs
// until SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "checkers/link_checker_linux.h"
#include "checkers/ping_checker_linux.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace {

pgvrrpd::Duration seconds(const char* text) {
  return std::chrono::duration_cast<pgvrrpd::Duration>(
      std::chrono::duration<double>(std::strtod(text, nullptr)));
}

int usage() {
  std::fprintf(stderr,
               "usage: checker_probe ping ADDRESS INTERVAL TIMEOUT RISE FALL\n"
               "       checker_probe link IFNAME\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pgvrrpd;
  if (argc < 3) return usage();
  std::string kind = argv[1];
  EventLoop loop;
  if (auto s = loop.open(); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  if (auto s = loop.handle_signals({SIGTERM, SIGINT}, [&](int) { loop.stop(); }); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::unique_ptr<checkers::Checker> checker;
  if (kind == "ping" && argc == 7) {
    auto target = IpAddress::parse(argv[2]);
    if (!target) return usage();
    checker = std::make_unique<checkers::PingChecker>(
        loop, "probe",
        checkers::PingParams{*target, seconds(argv[3]), seconds(argv[4]),
                             static_cast<uint32_t>(std::atoi(argv[5])),
                             static_cast<uint32_t>(std::atoi(argv[6]))});
  } else if (kind == "link" && argc == 3) {
    checker = std::make_unique<checkers::LinkChecker>(loop, argv[2]);
  } else {
    return usage();
  }
  checker->set_listener([&](bool passing, const std::string& reason) {
    double now = std::chrono::duration<double>(loop.now().time_since_epoch()).count();
    std::printf("%.3f %s %s\n", now, passing ? "PASS" : "FAIL", reason.c_str());
    std::fflush(stdout);
  });
  checker->start();
  if (auto s = loop.run(); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
