"""runner: run_test(fn, timeout), the main of every test_*.py: exit 0 on
success, 1 on failure, 77 (ctest's SKIP_RETURN_CODE) when not root; a
SIGALRM after `timeout` seconds fails the test while the lab can still
clean up (ctest's own TIMEOUT would SIGKILL it)."""
from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from typing import Callable

from processes import LabError

SKIP = 77  # exit code ctest treats as "skipped" (SKIP_RETURN_CODE)


def run_test(fn: Callable[[], None], timeout: float = 240) -> None:
    """Run fn() as a test script's body and exit: 0 on success, 1 on failure
    (message printed), SKIP (77) if not root. A SIGALRM after `timeout`
    seconds fails the test while cleanup can still run (ctest's own TIMEOUT
    would SIGKILL us)."""
    name = os.path.basename(sys.argv[0])
    if os.geteuid() != 0:
        print(f"SKIP {name}: needs root for network namespaces", flush=True)
        sys.exit(SKIP)

    def on_alarm(signum, frame):
        raise LabError(f"test did not finish within its {timeout:g} s budget")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(timeout))
    t0 = time.monotonic()
    try:
        fn()
    except KeyboardInterrupt as e:
        print(f"FAIL {name}: interrupted ({e})", flush=True)
        sys.exit(130)
    except SystemExit as e:
        if e.code not in (0, None):
            print(f"FAIL {name}: terminated (exit {e.code})", flush=True)
        raise
    except BaseException as e:
        traceback.print_exc()
        print(f"FAIL {name}: {e}", flush=True)
        sys.exit(1)
    finally:
        signal.alarm(0)
    print(f"PASS {name} ({time.monotonic() - t0:.1f} s)", flush=True)
    sys.exit(0)
