#!/usr/bin/env python3
"""run1.py OUT CMD...: run CMD once with its stdout to OUT; print "wall_s cpu_s maxrss_kb".

Wall time comes from a monotonic clock and CPU (user + sys) from wait4, at
microsecond resolution (GNU time prints CPU in 10 ms steps, coarser than a
whole encode or decode of a small file). GNU time, a small C program whose
forked child has little memory of its own before exec, reports the peak RSS.
Every figure includes the launcher's own cost (GNU time's start-up and fork),
the same for every tool measured. Used by bench/compare.sh and bench/decode.sh.
"""
import os
import sys
import tempfile
import time


def main():
    out, argv = sys.argv[1], sys.argv[2:]
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with tempfile.NamedTemporaryFile("r", prefix="run1-rss-") as rss:
        t0 = time.perf_counter()
        pid = os.posix_spawn("/usr/bin/time", ["time", "-f", "%M", "-o", rss.name] + argv,
                             os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, fd, 1)])
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("run1.py: %s failed" % " ".join(argv))
        print("%.6f %.6f %s" % (wall, ru.ru_utime + ru.ru_stime, rss.read().split()[-1]))


if __name__ == "__main__":
    main()
