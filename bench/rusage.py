"""Runs one command and prints what it cost as JSON: wall ms, user and sys CPU ms, peak RSS KiB.

    rusage.py <command> [args...]

wait4 gives the child's own resource usage to the microsecond; Node's spawn reports none of it, and
GNU time rounds CPU time to 10 ms. The command's stdout and stderr pass through untouched; the
figures go to the file named by BENCH_RUSAGE_FILE.
"""
import json
import os
import sys
import time

started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(os.environ["BENCH_RUSAGE_FILE"], "w") as out:
    json.dump(
        {
            "wallMs": wall * 1000,
            "userMs": usage.ru_utime * 1000,
            "sysMs": usage.ru_stime * 1000,
            "maxRssKiB": usage.ru_maxrss,
        },
        out,
    )
sys.exit(os.waitstatus_to_exitcode(status))
