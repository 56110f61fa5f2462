#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The hostile caller: becomes an unprivileged user with a process state of
its choosing and executes the setuid PAM client, as a local user runs su.

Started by test_hostile.py as root under `unshare -m --propagation
private`, with one JSON argument:

  {"mounts": [[fstype, source, target, options] ...],  (as root, first)
   "binds":  [[source, target] ...],
   "move":   [source, target] | null,
   "uid": N, "gid": N, "cwd": PATH, "umask": N,
   "rlimits": {"NOFILE": [soft, hard], "FSIZE": [soft, hard]},
   "ignore": ["SIGXFSZ", ...], "close_std": bool,
   "env": {...}, "argv": [...]}

The mounts give this process tree its own view of /etc, /tmp, /var/tmp and
/dev (overlays whose upper directories the test inspects afterwards, and a
/dev/log of the test's own syslog receiver), so whatever root writes there
is caught, and the real directories stay untouched. Then, in order: the
caller's identity (no supplementary groups, real and effective ids of the
user), its working directory, umask, signal dispositions, limits and
descriptors, and execve() of argv[0] with exactly env. The process keeps
its pid throughout, so the test can signal the client by Popen.pid.
"""
import json
import os
import resource
import signal
import subprocess
import sys


def main():
    spec = json.loads(sys.argv[1])
    for fstype, source, target, options in spec.get("mounts", []):
        subprocess.run(["mount", "-t", fstype, "-o", options, source, target],
                       check=True)
    for source, target in spec.get("binds", []):
        subprocess.run(["mount", "--bind", source, target], check=True)
    if spec.get("move"):
        subprocess.run(["mount", "--move"] + spec["move"], check=True)
    os.setgroups([])
    os.setresgid(spec["gid"], spec["gid"], spec["gid"])
    os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    os.chdir(spec["cwd"])
    os.umask(spec.get("umask", 0o022))
    # Python itself ignores SIGPIPE and SIGXFSZ, and execve() would pass
    # that on: the client starts from the defaults unless the case says.
    for name in ("SIGPIPE", "SIGXFSZ"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    for name in spec.get("ignore", []):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    for name, (soft, hard) in spec.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, "RLIMIT_" + name), (soft, hard))
    if spec.get("close_std"):
        for fd in (0, 1, 2):
            os.close(fd)
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


if __name__ == "__main__":
    main()
