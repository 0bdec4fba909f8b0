"""Runs a command and reports the peak resident memory of its process.

Usage: peak_rss.py OUT COMMAND [ARG...]

Runs COMMAND with this process's standard input, output and error, writes its peak resident
set size in bytes (getrusage's ru_maxrss for the waited-for child: the kernel's VmHWM of that
process, which a poll of /proc could miss just before exit) to the file OUT, and exits with
COMMAND's exit code.
"""

import resource
import subprocess
import sys


def main():
    out, command = sys.argv[1], sys.argv[2:]
    code = subprocess.call(command)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(out, "w") as f:
        f.write(str(peak_kib * 1024))
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
