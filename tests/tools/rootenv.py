# SPDX-License-Identifier: Apache-2.0
"""The root-only set-up shared by the suites that run real services with
pam_wif (e2e, e2e/postgres, e2e/saslauthd, hostile) and by the demo.

    sys.path.insert(0, <tests/tools>)
    import rootenv

    class Host(rootenv.RootEnv):
        def _open(self):                  # the suite's own set-up
            self.make_dir("/run", "pam_wif_e2e.", 0o700)
            keys = self.make_keys("keys")
            self.start_syslog(os.path.join(self.dir, "syslog"))
            self.start_idp(keys, os.path.join(self.dir, "idp"), ("rs256",))
            self.add_pam_service("wif-e2e-" + self.tag, "auth ...\n")

        def _stop_services(self):         # optional: first in close()
            ...

open() registers close() with atexit (a ctest timeout's SIGTERM, turned
into SystemExit by the suite, still cleans up) and calls close() when the
set-up fails. close() stops the subclass's services, then the test IdP;
removes the PAM services and accounts added here; stops the syslog
receiver; removes the work directory. Nothing else is touched.
"""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
PAM_DIR = "/etc/pam.d"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=120, **kw):
    """Runs cmd, raising CalledProcessError on failure; output as text."""
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout,
                          **kw)


def wait_started(cond, proc, what, timeout=10):
    """Waits until cond() holds; RuntimeError when proc ends first or the
    timeout passes."""
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("%s did not start" % what)
        time.sleep(0.05)


def stop(proc, timeout=10):
    """Terminates proc, killing it when it outlives the timeout."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_syslog_sink(out, ready, lifetime, sock=None):
    """tests/tools/syslog_sink.py writing to out, on /dev/log or on the
    socket sock; returns the process once it listens."""
    cmd = [PYTHON, os.path.join(TOOLS, "syslog_sink.py")]
    if sock is not None:
        cmd += ["--socket", sock]
    proc = subprocess.Popen(cmd + ["--out", out, "--ready", ready,
                                   "--lifetime", str(lifetime)])
    wait_started(lambda: os.path.exists(ready), proc, "the syslog receiver")
    return proc


class RootEnv:
    """A root-only work directory and what a suite adds to the machine."""

    def __init__(self):
        self.dir = None
        self.idp = None
        self.sink = None
        self.syslog_file = None  # None: pam_wif logs to the journal
        self.pam_files = []
        self.accounts = []

    # ---- setup ----

    def open(self):
        atexit.register(self.close)
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def _open(self):
        raise NotImplementedError

    def make_dir(self, base, prefix, mode):
        """The work directory: a fresh base/prefixXXXXXX with mode."""
        self.dir = tempfile.mkdtemp(prefix=prefix, dir=base)
        os.chmod(self.dir, mode)
        return self.dir

    def mkdir(self, rel, mode, owner=None):
        """A directory in the work directory; owner a pwd entry."""
        path = os.path.join(self.dir, rel)
        os.mkdir(path, mode)
        os.chmod(path, mode)  # exactly, whatever the umask
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        return path

    def write(self, path, text, mode=0o600, owner=None):
        """Writes a file (path relative to the work directory or absolute)
        with exactly mode; owner a uid."""
        path = os.path.join(self.dir, path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC |
                     os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, owner, -1)
        return path

    def make_keys(self, rel):
        """Test signing keys (tests/tools/gen_test_keys.py) in rel."""
        path = os.path.join(self.dir, rel)
        run([PYTHON, os.path.join(TOOLS, "gen_test_keys.py"), "--out", path])
        return path

    def start_syslog(self, path, lifetime=3600, sock=None):
        """A syslog receiver writing to path: on the socket sock, or on
        /dev/log when the machine has none (else the journal is read)."""
        if sock is None and os.path.exists("/dev/log"):
            return
        self.syslog_file = path
        self.sink = start_syslog_sink(path, path + ".ready", lifetime, sock)

    def start_idp(self, keys, state, kids, lifetime=3600):
        """The loopback HTTPS test identity provider (test_idp.py)."""
        import test_idp  # tests/tools, on the path as this module is
        self.idp = test_idp.IdP(keys, state, kids=kids, lifetime=lifetime,
                                python=PYTHON).start()
        return self.idp

    def add_pam_service(self, name, text):
        """/etc/pam.d/name, which must not exist yet; removed by close()."""
        path = os.path.join(PAM_DIR, name)
        with open(path, "x") as f:
            self.pam_files.append(path)
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def add_account(self, name, comment, home="/", shell="/bin/sh"):
        """A local account without home directory; removed by close()."""
        run(["useradd", "-M", "-N", "-d", home, "-s", shell, "-c", comment,
             name])
        self.accounts.append(name)
        return name

    # ---- use ----

    def syslog_lines(self):
        """Every line the receiver (or the journal's auth facility) has."""
        if self.syslog_file is None:
            return subprocess.run(
                ["journalctl", "-q", "-o", "cat", "--no-pager",
                 "SYSLOG_FACILITY=10"], stdout=subprocess.PIPE,
                text=True).stdout.splitlines()
        try:
            with open(self.syslog_file, errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def log_lines(self):
        """pam_wif's syslog lines so far."""
        return [l for l in self.syslog_lines() if "pam_wif" in l]

    def wait_log(self, needle, after=0, timeout=30):
        """The first of log_lines() after index `after` with needle, or
        None after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_lines()[after:]:
                if needle in line:
                    return line
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)

    # ---- teardown ----

    def _stop_services(self):
        """The subclass's own services (sshd, a database), first in close()."""

    def close(self):
        self._stop_services()
        if self.idp is not None:
            self.idp.stop()
            self.idp = None
        for path in self.pam_files:
            if os.path.exists(path):
                os.unlink(path)
        self.pam_files = []
        for name in self.accounts:
            subprocess.run(["pkill", "-KILL", "-u", name],
                           stderr=subprocess.DEVNULL)
            subprocess.run(["userdel", name], stderr=subprocess.DEVNULL)
        self.accounts = []
        stop(self.sink)
        self.sink = None
        if self.dir and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()
