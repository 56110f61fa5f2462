#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The hostile-caller suite: pam_wif inside a setuid-root PAM application
driven by an unprivileged user who controls its process state.

su, chsh, chfn and login are setuid root; their caller chooses the
environment, umask, limits, working directory, descriptors and signals,
and much of the PAM environment. None of it may steer what root does
(SECURITY-CASES.md section N, case ids N1-N10 in the test names).

Set up once for the run, and removed at the end (also after a failure or
on SIGTERM):
  - a root-only directory /var/lib/pam_wif-hostile.XXXXXX (every parent
    root-owned and not writable by others, on a file system without
    nosuid) holding a setuid-root copy of pam_client (mode 4755), the
    configuration, the exec: token program, the helper (when the build
    has one) and the key caches;
  - PAM services /etc/pam.d/wif-hostile-TAG-* loading the build tree's
    pam_wif.so with config= pointing into that directory;
  - an unprivileged user wif-hostile-TAG (useradd, removed afterwards);
  - the loopback HTTPS test IdP (tests/tools/test_idp.py) and a syslog
    receiver on a private socket (tests/tools/syslog_sink.py).

Every run of the client happens in a private mount namespace
(tests/hostile/caller.py): /etc, /tmp and /var/tmp are overlays whose
upper directories catch anything root writes there (the real directories
never see it), and /dev/log is the test's own receiver, whoever holds the
machine's /dev/log. After each run the suite asserts that root created
nothing outside cache_dir (the overlays and the caller's working directory
are empty of new entries), that nothing it wrote is group or world
writable, and that the cache is intact.

Usage: test_hostile.py --module SO --wifctl PATH --client PATH
       --forge SO --recorder PATH --keys DIR [--helper PATH]
       [--build DIR] [unittest args]
Exit 77 (skipped) without root.
"""
import argparse
import grp
import json
import os
import pwd
import re
import resource
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import rootenv  # noqa: E402
from rootenv import PYTHON  # noqa: E402

ARGS = None
ENV = None  # the run's environment (class Env), set up once
AUD = "api://pam-wif-hostile"
HTTP_TIMEOUT = 3
SYNC_MARK = "wif-test-log-sync"
# Bounds on a wait only show that it did not block; the margin is for slow
# runs, never a speed target (those live in tests/bench).
SLOW_RUN = 15
KID_ALG = {"rs256": "RS256", "es256": "ES256"}
EXEC_MARK = "hostile-exec-stderr-first-line"


def safe_chain(path):
    """Every directory from path up to / is root's and not writable by
    group or others (the trusted-file rules walk them all)."""
    d = path
    while True:
        st = os.stat(d)
        if st.st_uid != 0 or st.st_mode & 0o022:
            return False
        if d == "/":
            return True
        d = os.path.dirname(d)


def root_can_raise_limits():
    """CAP_SYS_RESOURCE (bit 24) in the bounding set: a setuid-root
    process may raise a hard limit its caller lowered. Some containers
    drop it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return bool(int(line.split()[1], 16) & (1 << 24))
    return False


def mount_options(path):
    r = subprocess.run(["findmnt", "-n", "-o", "OPTIONS", "-T", path],
                       stdout=subprocess.PIPE, text=True)
    return r.stdout.strip().split(",")


def tree(root):
    """relative path -> (uid, mode) of everything under root."""
    out = {}
    if not os.path.isdir(root):
        return out
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_uid, st.st_mode)
    return out


class Env(rootenv.RootEnv):
    """Everything the run creates; close() removes it all (rootenv.py)."""

    def __init__(self):
        super().__init__()
        self.tag = secrets.token_hex(3)
        self.locale_dirs = []
        self.counter = 0

    # ---- setup ----

    def _open(self):
        base = None
        for cand in ("/var/lib", "/var/cache"):
            if (os.path.isdir(cand) and safe_chain(cand)
                    and "nosuid" not in mount_options(cand)):
                base = cand
                break
        if base is None:
            raise RuntimeError("no root-owned directory on a file system "
                               "without nosuid (/var/lib, /var/cache)")
        self.make_dir(base, "pam_wif-hostile.", 0o755)
        for sub in ("bin", "etc", "cache", "ns"):
            self.mkdir(sub, 0o755)
        self.record = self.mkdir("record", 0o700)

        # The caller.
        self.user_name = self.add_account(
            "wif-hostile-" + self.tag, "pam_wif hostile test (temporary)",
            "/nonexistent", "/usr/sbin/nologin")
        self.user = pwd.getpwnam(self.user_name)
        self.uid, self.gid = self.user.pw_uid, self.user.pw_gid
        # The caller's own directory: its home, bait files, its files.
        self.home = self.mkdir("user", 0o755, owner=self.user)

        # The setuid client, and the helper when the build has one.
        self.client = os.path.join(self.dir, "bin", "pam_client")
        shutil.copy(ARGS.client, self.client)
        os.chown(self.client, 0, 0)
        os.chmod(self.client, 0o4755)
        # The exec: token program (tests/hostile/exec_recorder.c).
        self.recorder = os.path.join(self.dir, "bin", "exec_recorder")
        shutil.copy(ARGS.recorder, self.recorder)
        os.chown(self.recorder, 0, 0)
        os.chmod(self.recorder, 0o755)
        self.helper = None
        if ARGS.helper:
            self.helper = os.path.join(self.dir, "bin", "pam_wif-helper")
            shutil.copy(ARGS.helper, self.helper)
            os.chmod(self.helper, 0o755)

        # Syslog receiver on a private socket; each run's /dev/log.
        self.log_sock = os.path.join(self.dir, "log.sock")
        self.start_syslog(os.path.join(self.dir, "syslog"), 1800,
                          self.log_sock)

        # The IdP, and its CA where root trusts it.
        self.start_idp(ARGS.keys, os.path.join(self.dir, "idp"), ("rs256",),
                       1800)
        self.ca_file = os.path.join(self.dir, "etc", "ca.pem")
        shutil.copy(self.idp.ca_file, self.ca_file)
        os.chmod(self.ca_file, 0o644)
        self.issuer = self.idp.issuer("/tenant")
        self.jwks_file = os.path.join(self.dir, "etc", "jwks.json")
        shutil.copy(os.path.join(ARGS.keys, "jwks.json"), self.jwks_file)
        os.chmod(self.jwks_file, 0o644)

    # ---- files ----

    def write(self, rel, text, mode=0o644, owner=None):
        return super().write(rel, text, mode, owner)

    def next_id(self):
        self.counter += 1
        return "%s-%d" % (self.tag, self.counter)

    def config(self, name, provider=None, extra_global="", cache_dir=None):
        """A configuration with its own fresh cache directory."""
        cache = cache_dir or os.path.join(self.dir, "cache", name)
        if provider is None:
            provider = ("[provider idp]\nissuer = %s\naudience = %s\n"
                        "algorithms = RS256 ES256\nca_file = %s\n"
                        % (self.issuer, AUD, self.ca_file))
        names = re.findall(r"^\[provider (\S+)\]", provider, re.M)
        map_file = self.write("etc/%s.map" % name, "".join(
            "%s user alice nobody\n" % n for n in names))
        text = ("[global]\nmap_file = %s\ncache_dir = %s\n"
                "http_timeout = %d\n%s\n%s"
                % (map_file, cache, HTTP_TIMEOUT, extra_global, provider))
        return self.write("etc/%s.conf" % name, text), cache

    def service(self, name, auth_args="", lines=None, conf=None):
        """/etc/pam.d/wif-hostile-TAG-NAME with the build tree's module."""
        svc = "wif-hostile-%s-%s" % (self.tag, name)
        mod = ARGS.module
        args = "config=%s" % conf
        if self.helper:
            args += " helper=%s" % self.helper
        if lines is None:
            lines = ("auth [success=done default=die] %s %s %s\n"
                     "account required %s %s\n"
                     % (mod, args, auth_args, mod, args))
        else:
            lines = lines.replace("@MODULE@", "%s %s" % (mod, args))
        self.add_pam_service(svc, lines)
        return svc

    def token(self, kid="rs256", **over):
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": AUD, "sub": "alice", "iat": now,
                  "exp": now + 600}
        claims.update(over)
        claims = {k: v for k, v in claims.items() if v is not None}
        with open(os.path.join(ARGS.keys, kid + ".key.pem"), "rb") as f:
            key = f.read()
        return jwt.encode(claims, key, algorithm=KID_ALG[kid],
                          headers={"kid": kid})

    def log_lines(self):
        """Every line of the private receiver, pam_wif's or not, but the
        markers of sync_log."""
        return [l for l in self.syslog_lines() if SYNC_MARK not in l]

    def sync_log(self, timeout=30):
        """Waits until the receiver has written every message sent so far:
        a marker sent now is queued behind them on its datagram socket."""
        mark = "%s %s" % (SYNC_MARK, secrets.token_hex(8))
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(("<15>" + mark).encode(), self.log_sock)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.syslog_file, errors="replace") as f:
                    if mark in f.read():
                        return
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the syslog receiver fell behind")
            time.sleep(0.02)

    def make_locale(self, source, charset, name):
        """A locale under its own name in /usr/lib/locale (setuid programs
        ignore LOCPATH), removed at the end; None when localedef lacks the
        source definition."""
        target = os.path.join("/usr/lib/locale", name)
        if os.path.isdir(target):
            return name
        if not os.path.exists(os.path.join("/usr/share/i18n/locales", source)):
            return None
        self.locale_dirs.append(target)
        r = subprocess.run(["localedef", "--no-archive", "-i", source, "-f",
                            charset, target], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        # localedef exits 1 on mere warnings; the directory is what counts.
        if not os.path.exists(os.path.join(target, "LC_NUMERIC")):
            return None
        return name

    # ---- teardown ----

    def _stop_services(self):
        for path in self.locale_dirs:
            shutil.rmtree(path, ignore_errors=True)
        self.locale_dirs = []
        self.user = None


class Result:
    """One run of the setuid client: PAM results, the caller's view, and
    what root left in the overlays."""

    def __init__(self):
        self.phases = {}
        self.env = {}
        self.messages = []
        self.lines = []
        self.returncode = None
        self.stderr = b""
        self.log = []
        self.upper = {}
        self.elapsed = 0.0

    def code(self, phase):
        return self.phases.get(phase, (None, "not run"))[1]


class Hostile(unittest.TestCase):
    """Runs the setuid client as the test user in a private mount
    namespace, with the process state the case chooses."""

    # What every hostile run sets: variables libcurl, OpenSSL, glibc and
    # the token sources read, each pointing at something the caller owns.
    def hostile_env(self):
        bait = self.bait
        proxy = "http://127.0.0.1:%d" % self.proxy_port
        env = {
            "PATH": "%s:/usr/bin:/bin" % bait,
            "SSLKEYLOGFILE": "/etc/wif-hostile-keylog-%s" % ENV.next_id(),
            "http_proxy": proxy, "https_proxy": proxy, "HTTPS_PROXY": proxy,
            "HTTP_PROXY": proxy, "ALL_PROXY": proxy, "all_proxy": proxy,
            "no_proxy": "", "NO_PROXY": "",
            "CURL_CA_BUNDLE": os.path.join(bait, "ca.pem"),
            "SSL_CERT_FILE": os.path.join(bait, "ca.pem"),
            "SSL_CERT_DIR": os.path.join(bait, "certs"),
            "OPENSSL_CONF": os.path.join(bait, "openssl.cnf"),
            "OPENSSL_MODULES": os.path.join(bait, "modules"),
            "OPENSSL_ENGINES": os.path.join(bait, "engines"),
            "CURL_HOME": bait, "HOME": bait,
            "XDG_RUNTIME_DIR": os.path.join(bait, "run"),
            "XDG_CACHE_HOME": os.path.join(bait, "cache"),
            "XDG_CONFIG_HOME": os.path.join(bait, "config"),
            "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
            "TZ": os.path.join(bait, "tz"),
            "LD_PRELOAD": os.path.join(bait, "preload.so"),
            "LD_LIBRARY_PATH": bait, "MALLOC_CHECK_": "3",
            "GCONV_PATH": bait, "LOCPATH": bait, "TMPDIR": bait,
            "WIF_HELPER": os.path.join(bait, "helper"),
            "WIF_CONFIG": os.path.join(bait, "pam_wif.conf"),
            "WIF_DEBUG": "1", "WIF_TEST_NOW": "4102444800",
            "WIF_AZURE_IMDS_ENDPOINT": proxy,
            "WIF_GCP_METADATA_ENDPOINT": proxy,
            "ACTIONS_ID_TOKEN_REQUEST_URL": proxy + "/idtoken",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "hostile",
            "AZURE_FEDERATED_TOKEN_FILE": os.path.join(bait, "token"),
            "IDENTITY_ENDPOINT": proxy, "IMDS_ENDPOINT": proxy,
            "GCE_METADATA_HOST": "127.0.0.1:%d" % self.proxy_port,
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "HOSTILE_MARKER": "hostile-caller-variable",
        }
        return env

    def setUp(self):
        self.id_ = ENV.next_id()
        # The caller's bait: a directory of its own whose files every
        # hostile variable names. Root must open none of them.
        self.bait = os.path.join(ENV.home, "bait-" + self.id_)
        os.mkdir(self.bait, 0o755)
        for name in ("ca.pem", "openssl.cnf", "tz", "token", "pam_wif.conf",
                     "preload.so"):
            with open(os.path.join(self.bait, name), "w") as f:
                f.write("hostile\n")
        shutil.copy(ENV.ca_file, os.path.join(self.bait, "ca.pem"))
        for name in ("certs", "modules", "engines", "run", "cache", "config"):
            os.mkdir(os.path.join(self.bait, name), 0o755)
        for dirpath, dirs, files in os.walk(self.bait):
            for n in dirs + files + [""]:
                os.chown(os.path.join(dirpath, n), ENV.uid, ENV.gid)
        # The caller's working directory: its own, not readable.
        self.cwd = os.path.join(ENV.home, "cwd-" + self.id_)
        os.mkdir(self.cwd, 0o333)
        os.chown(self.cwd, ENV.uid, ENV.gid)
        os.chmod(self.cwd, 0o333)
        self.watch = Watch(self.bait)
        self.addCleanup(self.watch.close)
        self.proxy = Listener()
        self.addCleanup(self.proxy.close)
        self.proxy_port = self.proxy.port
        ENV.idp.config(mode="ok", fault_on="all", kids=["rs256"],
                       jwks_raw=None, cache_control=None, delay=2)
        ENV.idp.reset()

    # ---- running the client ----

    def start(self, service, token=None, phases="auth,account",
              hostile=True, umask=0o000, rlimits=None, close_std=False,
              env=None, ignore=None):
        """Starts the client; returns (proc, context for finish())."""
        ns = tempfile.mkdtemp(dir=os.path.join(ENV.dir, "ns"))
        os.chmod(ns, 0o755)
        mounts = []
        upper = {}
        for target in ("/etc", "/tmp", "/var/tmp"):
            name = target.strip("/").replace("/", "_")
            up = os.path.join(ns, name + "-up")
            wk = os.path.join(ns, name + "-wk")
            os.mkdir(up)
            os.mkdir(wk)
            st = os.stat(target)
            os.chmod(up, stat.S_IMODE(st.st_mode))
            upper[target] = up
            mounts.append(["overlay", "overlay", target,
                           "lowerdir=%s,upperdir=%s,workdir=%s"
                           % (target, up, wk)])
        # /dev: an overlay holding /dev/log -> the test's receiver, with
        # the real /dev/pts and /dev/shm bound back in, moved into place.
        devm = os.path.join(ns, "dev")
        devup = os.path.join(ns, "dev-up")
        devwk = os.path.join(ns, "dev-wk")
        for d in (devm, devup, devwk):
            os.mkdir(d)
        os.chmod(devup, 0o755)
        os.symlink(ENV.log_sock, os.path.join(devup, "log"))
        upper["/dev"] = devup
        mounts.append(["overlay", "overlay", devm,
                       "lowerdir=/dev,upperdir=%s,workdir=%s" % (devup, devwk)])
        binds = [[os.path.join("/dev", s), os.path.join(devm, s)]
                 for s in ("pts", "shm", "mqueue")
                 if os.path.ismount(os.path.join("/dev", s))]
        rfd, wfd = os.pipe()
        argv = [ENV.client, "--result-fd", str(wfd), "--phases", phases]
        if token is not None:
            argv += ["--token", token]
        argv += [service, "nobody"]
        e = self.hostile_env() if hostile else {"PATH": "/usr/bin:/bin"}
        e.update(env or {})
        spec = {"mounts": mounts, "binds": binds, "move": [devm, "/dev"],
                "uid": ENV.uid, "gid": ENV.gid, "cwd": self.cwd,
                "umask": umask, "rlimits": rlimits or {},
                "ignore": list(ignore if ignore is not None else
                                (("SIGXFSZ",) if hostile else ())),
                "close_std": close_std, "env": e, "argv": argv}
        errf = tempfile.TemporaryFile(dir=ENV.dir)
        ctx = {"upper": upper, "rfd": rfd, "err": errf, "env": e,
               "log_start": len(ENV.log_lines()), "t0": time.monotonic(),
               "cwd_before": sorted(os.listdir(self.cwd))}
        proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", PYTHON,
             os.path.join(HERE, "caller.py"), json.dumps(spec)],
            stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
            pass_fds=(wfd,))
        os.close(wfd)
        return proc, ctx

    def finish(self, proc, ctx, timeout=60):
        res = Result()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.fail("the client did not finish within %d s" % timeout)
        res.elapsed = time.monotonic() - ctx["t0"]
        res.returncode = proc.returncode
        with os.fdopen(ctx["rfd"], "r", errors="replace") as f:
            text = f.read()
        ctx["err"].seek(0)
        res.stderr = ctx["err"].read()
        ctx["err"].close()
        for line in text.splitlines():
            res.lines.append(line)
            parts = line.split(" ", 3)
            if parts[0] == "phase" and len(parts) >= 4:
                res.phases[parts[1]] = (int(parts[2]), parts[3])
            elif parts[0] == "env":
                k, _, v = line[4:].partition("=")
                res.env[k] = v
            elif parts[0] == "message":
                res.messages.append(line)
        ENV.sync_log()  # the receiver writes asynchronously
        res.log = [l for l in ENV.log_lines()[ctx["log_start"]:]]
        res.upper = {t: tree(d) for t, d in ctx["upper"].items()}
        res.cwd_after = sorted(os.listdir(self.cwd))
        res.cwd_before = ctx["cwd_before"]
        res.env_sent = ctx["env"]
        return res

    def login(self, service, token=None, timeout=60, **kw):
        proc, ctx = self.start(service, token, **kw)
        return self.finish(proc, ctx, timeout)

    # ---- assertions ----

    def describe(self, res):
        return ("results %r, exit %r, stderr %r, log:\n  %s"
                % (res.lines, res.returncode, res.stderr[:500],
                   "\n  ".join(res.log[-8:])))

    def assert_phase(self, res, phase, name):
        self.assertEqual(res.code(phase), name, self.describe(res))

    def assert_clean(self, res, cache=None, cache_before=None):
        """Root created nothing outside cache_dir, nothing it wrote is
        group or world writable, and the cache is intact. All
        findings are reported together."""
        problems = []
        for target, entries in sorted(res.upper.items()):
            for p, (uid, mode) in sorted(entries.items()):
                if target == "/dev" and p == "log":
                    continue
                problems.append("root wrote %s/%s (uid %d, mode %s)"
                                % (target, p, uid, oct(mode)))
        if res.cwd_after != res.cwd_before:
            problems.append("the caller's working directory changed: %r"
                            % res.cwd_after)
        events = self.watch.drain()
        if events:
            problems.append("root opened the caller's files: %r" % events)
        if self.proxy.connections:
            problems.append("%d connection(s) reached the caller's proxy"
                            % self.proxy.connections)
        if cache is not None:
            problems += self.cache_problems(cache, cache_before)
        self.assertEqual(problems, [], "\n".join(problems))

    def cache_problems(self, cache, before=None):
        out = []
        if not os.path.exists(cache):
            return out
        st = os.lstat(cache)
        if (not stat.S_ISDIR(st.st_mode) or st.st_uid != 0
                or stat.S_IMODE(st.st_mode) & 0o077):
            out.append("cache_dir %s: uid %d mode %o" % (cache, st.st_uid,
                                                         st.st_mode))
        for rel, (uid, mode) in sorted(tree(cache).items()):
            path = os.path.join(cache, rel)
            if uid != 0:
                out.append("%s is not root's" % path)
            if mode & 0o022:
                out.append("%s is group or world writable (%o)"
                           % (path, mode))
            if rel.endswith(".json") and stat.S_ISREG(mode):
                with open(path, "rb") as f:
                    data = f.read()
                if before is not None and before.get(rel) == data:
                    continue
                try:
                    if not isinstance(json.loads(data), dict):
                        raise ValueError
                except ValueError:
                    out.append("%s does not parse: %r" % (path, data[:80]))
        return out

    def cache_snapshot(self, cache):
        out = {}
        for rel, (uid, mode) in tree(cache).items():
            if stat.S_ISREG(mode):
                with open(os.path.join(cache, rel), "rb") as f:
                    out[rel] = f.read()
        return out

    def assert_logged(self, res, needle):
        self.assertTrue(any(needle in l for l in res.log),
                        "no log line with %r in:\n  %s"
                        % (needle, "\n  ".join(res.log)))


class Watch:
    """inotify on the caller's bait directory: any open or read of a file
    there (by anyone: only root's process touches it during a run)."""

    IN_ACCESS, IN_OPEN = 0x1, 0x20

    def __init__(self, root):
        import ctypes
        import ctypes.util
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"),
                                use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.names = {}
        for dirpath, dirs, files in os.walk(root):
            wd = self.libc.inotify_add_watch(
                self.fd, dirpath.encode(), self.IN_ACCESS | self.IN_OPEN)
            self.names[wd] = dirpath
        self.drain()

    def drain(self):
        events = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            off = 0
            while off + 16 <= len(data):
                wd, mask, _, ln = (int.from_bytes(data[off:off + 4], "little",
                                                  signed=True),
                                   int.from_bytes(data[off + 4:off + 8],
                                                  "little"),
                                   0, int.from_bytes(data[off + 12:off + 16],
                                                     "little"))
                name = data[off + 16:off + 16 + ln].rstrip(b"\0").decode()
                events.append((self.names.get(wd, "?"), name, mask))
                off += 16 + ln

    def assert_untouched(self, test):
        events = self.drain()
        test.assertEqual(events, [], "root opened the caller's files: %r"
                         % events)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Listener:
    """A TCP port on loopback that counts connections: the caller's
    proxy and metadata endpoints."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            c.close()

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


LOCAL_ISS = "https://local.hostile.test"


def local_provider(extra=""):
    """A provider with a pinned key set: no network at all."""
    return ("[provider local]\nissuer = %s\naudience = %s\n"
            "algorithms = RS256 ES256\njwks_file = %s\n%s"
            % (LOCAL_ISS, AUD, ENV.jwks_file, extra))


class FetchTest(Hostile):
    """A key fetch (empty cache) run by the hostile caller."""

    def cold(self, name):
        conf, cache = ENV.config(name)
        return ENV.service(name, conf=conf), conf, cache

    def test_n1_sslkeylogfile_creates_nothing(self):
        # The December 2026 exploit: umask 000, SSLKEYLOGFILE=/etc/x and a
        # token whose issuer needs a fetch made root create /etc/x 0666.
        svc, conf, cache = self.cold("n1-keylog")
        res = self.login(svc, ENV.token())
        keylog = os.path.basename(res.env_sent["SSLKEYLOGFILE"])
        made = res.upper["/etc"].get(keylog)
        self.assertIsNone(made, "root created /etc/%s, mode %s" % (
            keylog, oct(made[1]) if made else None))
        self.assert_clean(res, cache)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assertEqual(ENV.idp.stats()["jwks"], 1)

    def test_n1_caller_ca_and_proxy_ignored(self):
        # Without ca_file the system's CAs apply, never the caller's
        # SSL_CERT_FILE / CURL_CA_BUNDLE / SSL_CERT_DIR (which name the
        # IdP's CA here): the fetch must fail, and no proxy is used.
        conf, cache = ENV.config("n1-ca", provider=(
            "[provider idp]\nissuer = %s\naudience = %s\n"
            "algorithms = RS256 ES256\n" % (ENV.issuer, AUD)))
        svc = ENV.service("n1-ca", conf=conf)
        res = self.login(svc, ENV.token())
        self.assert_clean(res, cache)
        self.assert_phase(res, "auth", "PAM_AUTHINFO_UNAVAIL")
        self.assertEqual(ENV.idp.stats()["jwks"], 0)

    def test_n2_umask_000_writes_no_open_modes(self):
        # Only the umask is hostile here: every file root writes (the key
        # cache, its lock) has an explicit mode.
        svc, conf, cache = self.cold("n2-umask")
        res = self.login(svc, ENV.token(), hostile=False, umask=0)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assertTrue(os.listdir(cache), "the fetch cached nothing")
        self.assert_clean(res, cache)

    # RLIMIT_FSIZE of one byte with SIGXFSZ ignored: a write by the
    # caller's process fails with EFBIG. Fetches and cache writes happen in
    # the helper, whose clean start resets the limit to unlimited, so the
    # caller's limit never reaches the writer. Two callers: one lowers only
    # the soft limit (the helper raises it back on any machine), one the
    # hard limit too, which only CAP_SYS_RESOURCE can raise again. Without
    # that capability (some containers) the helper must refuse to start
    # with the caller's limits rather than run under them.
    FSIZE_SOFT = {"FSIZE": [1, resource.RLIM_INFINITY]}
    FSIZE_HARD = {"FSIZE": [1, 1]}

    def cache_written(self, cache, t0, kids):
        """The cache holds one complete set, fetched by root at or after
        t0, fresh, with the given kids; the lock records a successful fetch
        (common/jwks_store.c: "T\\n"); nothing else lies around."""
        now = int(time.time())
        names = sorted(os.listdir(cache))
        self.assertEqual(sorted(os.path.splitext(n)[1] for n in names),
                         [".json", ".lock"], "cache_dir holds %r" % names)
        for n in names:
            path = os.path.join(cache, n)
            st = os.lstat(path)
            self.assertTrue(stat.S_ISREG(st.st_mode), path)
            self.assertEqual(st.st_uid, 0, path)
            self.assertEqual(stat.S_IMODE(st.st_mode) & 0o077, 0,
                             "%s mode %o" % (path, st.st_mode))
            with open(path) as f:
                text = f.read()
            if n.endswith(".lock"):
                self.assertRegex(text, r"^[0-9]+\n$", "the lock records a "
                                 "failure or is cut: %r" % text)
                self.assertGreaterEqual(int(text), t0)
                continue
            doc = json.loads(text)
            self.assertTrue(text.endswith("}\n"), "cut cache file")
            self.assertGreaterEqual(doc["fetched_at"], t0, "not refreshed")
            self.assertGreater(doc["fresh_until"], now, "not fresh")
            # The set is kept as the text the issuer served.
            jwks = doc["jwks"]
            if isinstance(jwks, str):
                jwks = json.loads(jwks)
            self.assertEqual(sorted(k["kid"] for k in jwks["keys"]),
                             sorted(kids))

    def test_n3_tiny_fsize_cold(self):
        # An empty cache: the helper fetches and writes it whole.
        svc, conf, cache = self.cold("n3-fsize")
        t0 = int(time.time())
        res = self.login(svc, ENV.token(), rlimits=self.FSIZE_SOFT)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assert_clean(res, cache)
        self.assertEqual(ENV.idp.stats()["jwks"], 1)
        self.cache_written(cache, t0, ["rs256"])

    def test_n3_tiny_fsize_hard_cold(self):
        svc, conf, cache = self.cold("n3-fsize-hard")
        t0 = int(time.time())
        res = self.login(svc, ENV.token(), rlimits=self.FSIZE_HARD)
        self.assert_clean(res, cache)
        if root_can_raise_limits():
            self.assert_phase(res, "auth", "PAM_SUCCESS")
            self.cache_written(cache, t0, ["rs256"])
        else:
            self.assert_phase(res, "auth", "PAM_AUTHINFO_UNAVAIL")
            self.assert_logged(res, "fetch helper")
            self.assertEqual(ENV.idp.stats()["jwks"], 0)
            self.assertFalse([n for n in os.listdir(cache)
                              if n.endswith(".json")], "a cache appeared")
        # Either way the next login works, and nothing held it off.
        again = self.login(svc, ENV.token(), hostile=False)
        self.assert_phase(again, "auth", "PAM_SUCCESS")
        self.assert_clean(again, cache)
        self.cache_written(cache, t0, ["rs256"])

    def age(self, cache):
        """Makes the cached set stale and its last fetch old (as
        tests/integration/keys does), so the next login refreshes."""
        now = int(time.time())
        for rel in self.cache_snapshot(cache):
            path = os.path.join(cache, rel)
            if rel.endswith(".json"):
                with open(path) as f:
                    doc = json.load(f)
                doc["fetched_at"] = now - 7200
                doc["fresh_until"] = now - 3600
                with open(path, "w") as f:
                    json.dump(doc, f)
            elif rel.endswith(".lock"):
                # The fetch record (common/jwks_store.c): "T\n" or
                # "T failed: reason\n"; an hour ago, so no cooldown.
                with open(path, "w") as f:
                    f.write("%d\n" % (now - 3600))

    def stale_cache(self, name):
        """A service whose cache holds a stale set of rs256 only, with the
        IdP now serving rs256 and es256; returns (svc, cache, before)."""
        svc, conf, cache = self.cold(name)
        first = self.login(svc, ENV.token(), hostile=False)
        self.assert_phase(first, "auth", "PAM_SUCCESS")
        self.age(cache)
        before = self.cache_snapshot(cache)
        self.assertTrue(before)
        ENV.idp.config(kids=["rs256", "es256"])
        ENV.idp.reset()
        return svc, cache, before

    def test_n3_tiny_fsize_refresh_keeps_cache(self):
        # A stale cache refreshed for a caller under RLIMIT_FSIZE: root
        # (the helper) writes the new set whole, and the module uses it.
        svc, cache, before = self.stale_cache("n3-refresh")
        t0 = int(time.time())
        res = self.login(svc, ENV.token("es256"), rlimits=self.FSIZE_SOFT)
        self.assertEqual(ENV.idp.stats()["jwks"], 1, self.describe(res))
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assert_clean(res, cache, before)
        self.cache_written(cache, t0, ["rs256", "es256"])

    def test_n3_tiny_fsize_hard_refresh_keeps_cache(self):
        svc, cache, before = self.stale_cache("n3-refresh-hard")
        t0 = int(time.time())
        res = self.login(svc, ENV.token(), rlimits=self.FSIZE_HARD)
        self.assert_clean(res, cache, before)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        if root_can_raise_limits():
            self.assertEqual(ENV.idp.stats()["jwks"], 1)
            self.cache_written(cache, t0, ["rs256", "es256"])
        else:
            # No helper: the stale set serves (within the stale limit),
            # untouched byte for byte, and the log says why.
            self.assertEqual(ENV.idp.stats()["jwks"], 0)
            self.assertEqual(self.cache_snapshot(cache), before)
            self.assert_logged(res, "using cached keys")

    def test_n3_tiny_nofile(self):
        # RLIMIT_NOFILE 8, soft only or hard too: the module may lack the
        # descriptors to start the helper (it never changes the host's
        # limits), but then fails cleanly: PAM_AUTHINFO_UNAVAIL and a log
        # line that says why, never a crash or a partial cache; the next
        # login works and root writes the cache whole.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        for limit in ([8, hard], [8, 8]):
            svc, conf, cache = self.cold("n3-nofile-%d" % limit[1])
            t0 = int(time.time())
            res = self.login(svc, ENV.token(), rlimits={"NOFILE": limit})
            self.assertIn(res.code("auth"),
                          ("PAM_SUCCESS", "PAM_AUTHINFO_UNAVAIL"),
                          self.describe(res))
            if res.code("auth") != "PAM_SUCCESS":
                self.assert_logged(res, "outcome=unavailable")
            self.assert_clean(res, cache)
            again = self.login(svc, ENV.token(), hostile=False)
            self.assert_phase(again, "auth", "PAM_SUCCESS")
            self.cache_written(cache, t0, ["rs256"])

    def test_n4_closed_std_descriptors(self):
        # fds 0-2 closed: whatever the module opens lands there. Nothing
        # it writes may reach those files (config, map, CA, cache).
        svc, conf, cache = self.cold("n4-closed")
        trusted = [conf, conf[:-len(".conf")] + ".map", ENV.ca_file,
                   ENV.jwks_file]
        before = {}
        for p in trusted:
            with open(p, "rb") as f:
                before[p] = f.read()
        res = self.login(svc, ENV.token(), close_std=True)
        self.assert_clean(res, cache)
        for p in trusted:
            with open(p, "rb") as f:
                self.assertEqual(f.read(), before[p], p + " changed")
        self.assert_phase(res, "auth", "PAM_SUCCESS")

    def stop_mid_fetch(self, name, sig):
        """Starts a hostile login against a slow IdP and sends sig once
        the fetch is in flight; returns (proc, ctx, svc, cache)."""
        svc, conf, cache = self.cold(name)
        ENV.idp.config(mode="slow", delay=HTTP_TIMEOUT - 1)
        proc, ctx = self.start(svc, ENV.token())
        self.addCleanup(lambda: proc.poll() is None and (
            proc.kill(), proc.wait()))
        deadline = time.monotonic() + 15
        while ENV.idp.stats()["total"] == 0:
            self.assertLess(time.monotonic(), deadline, "no fetch started")
            time.sleep(0.05)
        time.sleep(0.2)
        os.kill(proc.pid, sig)
        ENV.idp.config(mode="ok")
        return proc, ctx, svc, cache

    def test_n5_sigstop_mid_fetch(self):
        # The caller stops its own setuid process while it fetches. Other
        # logins must not wait on it past the timeout.
        proc, ctx, svc, cache = self.stop_mid_fetch("n5-stop",
                                                    signal.SIGSTOP)
        t0 = time.monotonic()
        other = self.login(svc, ENV.token(), hostile=False,
                           timeout=4 * HTTP_TIMEOUT + 30)
        took = time.monotonic() - t0
        os.kill(proc.pid, signal.SIGKILL)
        self.finish(proc, ctx)
        # The lock wait (timeout + 2 s), then its own fetch: the margin is
        # for slow runs; blocking on the stopped caller would run into the
        # client's timeout above.
        self.assertLess(took, 2 * HTTP_TIMEOUT + SLOW_RUN,
                        "a login waited %.1f s on a stopped caller" % took)
        self.assert_phase(other, "auth", "PAM_SUCCESS")
        self.assert_clean(other, cache)

    def test_n5_sigkill_mid_fetch(self):
        proc, ctx, svc, cache = self.stop_mid_fetch("n5-kill",
                                                    signal.SIGKILL)
        killed = self.finish(proc, ctx)
        self.assert_clean(killed, cache)
        t0 = time.monotonic()
        other = self.login(svc, ENV.token(), hostile=False)
        self.assertLess(time.monotonic() - t0, 2 * HTTP_TIMEOUT + SLOW_RUN)
        self.assert_phase(other, "auth", "PAM_SUCCESS")
        self.assert_clean(other, cache)

    def test_n6_unreadable_working_directory(self):
        # The caller sits in a directory of its own that it cannot read;
        # nothing resolves paths relative to it, nothing lands in it.
        svc, conf, cache = self.cold("n6-cwd")
        res = self.login(svc, ENV.token(), hostile=False)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assert_clean(res, cache)
        self.assertEqual(res.cwd_after, [])


class ExecSourceTest(Hostile):
    """Host identity mode with an exec: program: tests/hostile/exec_recorder.c
    records the state it was started in, as root, into a root-only file."""

    # What the module writes as the program's whole environment
    # (common/source_exec.c); nothing else may appear.
    EXEC_ENV = {"PATH", "WIF_CALLBACK_VERSION", "WIF_TIMEOUT_MS",
                "WIF_AUDIENCE", "WIF_CLIENT_ID"}

    def exec_service(self, name, script=False):
        """A service whose token comes from the recorder, started directly
        or (script=True) through a #! script that execs it."""
        token = ENV.write("etc/%s.token" % name, ENV.token(iss=LOCAL_ISS),
                          mode=0o600)
        rec = os.path.join(ENV.record, name)
        if script:
            prog = ENV.write("bin/%s.sh" % name,
                             "#!/bin/sh\nexec %s %s %s\n"
                             % (ENV.recorder, rec, token), mode=0o755)
            command = prog
        else:
            prog = ENV.recorder
            command = "%s %s %s" % (ENV.recorder, rec, token)
        conf, cache = ENV.config(name, provider=local_provider())
        svc = ENV.service(name, conf=conf,
                          auth_args="[source=exec:%s]" % command)
        return svc, rec, cache, prog

    def record(self, rec, res):
        self.assertTrue(os.path.exists(rec),
                        "the exec: program did not run as root (no %s): %s"
                        % (rec, self.describe(res)))
        st = os.stat(rec)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600))
        out = {"fds": {}, "env": {}, "rlimit": {}}
        with open(rec) as f:
            for line in f.read().splitlines():
                key, _, rest = line.partition(" ")
                if key == "fd":
                    n, _, target = rest.partition(" ")
                    out["fds"][int(n)] = target
                elif key == "env":
                    k, _, v = rest.partition("=")
                    out["env"][k] = v
                elif key == "rlimit":
                    name, soft, hard = rest.split()
                    out["rlimit"][name] = (soft, hard)
                else:
                    out[key] = rest
        return out

    def test_n7_exec_program_clean_start(self):
        svc, rec, cache, _ = self.exec_service("n7-exec")
        res = self.login(svc)
        self.assert_clean(res, cache)
        # First what the caller saw: nothing of the program's stderr.
        self.assertNotIn(EXEC_MARK.encode(), res.stderr,
                         "the program's stderr reached the caller")
        self.assertEqual(res.stderr, b"", "the caller's stderr got %r"
                         % res.stderr[:300])
        r = self.record(rec, res)
        self.assertEqual(r["uid"], "0 0 0", "uids (real, effective, saved)")
        self.assertEqual(r["gid"], "0 0 0", "gids (real, effective, saved)")
        groups = set(int(g) for g in r["groups"].split())
        self.assertIn(0, groups)
        self.assertLessEqual(groups, set(os.getgrouplist("root", 0)),
                             "groups other than root's")
        self.assertNotIn(ENV.gid, groups)
        self.assertEqual(r["cwd"], "/")
        self.assertEqual(r["umask"], "0077")
        env = r["env"]
        self.assertLessEqual(set(env), self.EXEC_ENV,
                             "variables the module does not write: %r" % env)
        self.assertEqual(env.get("PATH"), "/usr/local/bin:/usr/bin:/bin")
        self.assertEqual(env.get("WIF_CALLBACK_VERSION"), "1")
        self.assertRegex(env.get("WIF_TIMEOUT_MS", ""), r"^[0-9]+$")
        # No value of the caller's under any name (its values are paths,
        # URLs and markers; short ones such as WIF_DEBUG=1 say nothing).
        sent = {v for k, v in res.env_sent.items()
                if k != "PATH" and len(v) >= 6}
        leaked = sorted(k for k, v in env.items() if v in sent or
                        ENV.home in v or "hostile-caller" in v)
        self.assertEqual(leaked, [], "caller values reached the program: "
                         "%r" % env)
        lim = r["rlimit"]
        self.assertEqual(lim["NOFILE"], ("1024", "1024"))
        self.assertEqual(lim["CORE"], ("0", "0"))
        for name in ("FSIZE", "CPU", "AS", "DATA"):
            self.assertEqual(lim[name], ("unlimited", "unlimited"), name)
        self.assertEqual(r["sigmask"], "EMPTY")
        # The caller's SIGXFSZ was ignored; the program's is not.
        self.assertEqual(r["sigign"].split(), [],
                         "signals ignored in the program")
        # stderr: captured and its first line logged, and only that.
        self.assert_logged(res, EXEC_MARK)
        self.assertFalse(any("a second stderr line" in l for l in res.log))
        self.assert_phase(res, "auth", "PAM_SUCCESS")

    def check_descriptors(self, script):
        # With the caller's 0-2 closed, the program's 0-2 are /dev/null or
        # the module's pipes, never a file the module opened, and nothing
        # else is open but (for a #! script, executed by descriptor) the
        # script itself on fd 3, which its interpreter reads.
        name = "n4-exec-script" if script else "n4-exec"
        svc, rec, cache, prog = self.exec_service(name, script=script)
        res = self.login(svc, close_std=True)
        self.assert_clean(res, cache)
        fds = dict(self.record(rec, res)["fds"])
        for fd in (0, 1, 2):
            target = fds.pop(fd, "closed")
            self.assertTrue(target == "/dev/null" or
                            target.startswith("pipe:"),
                            "fd %d of the program is %s" % (fd, target))
        if script:
            self.assertEqual(fds.pop(3, "closed"), prog,
                             "fd 3 of a script is the script itself")
        self.assertEqual(fds, {}, "descriptors leaked into the program")
        self.assert_phase(res, "auth", "PAM_SUCCESS")

    def test_n4_exec_program_descriptors(self):
        self.check_descriptors(script=False)

    def test_n4_exec_script_descriptors(self):
        self.check_descriptors(script=True)


class TrustTest(Hostile):
    """Files the caller owns, named by the configuration."""

    def caller_file(self, name, src):
        path = os.path.join(ENV.home, "%s-%s" % (self.id_, name))
        shutil.copy(src, path)
        os.chown(path, ENV.uid, ENV.gid)
        os.chmod(path, 0o644)
        return path

    def assert_refused(self, res, conf=None, path=None):
        # An untrusted file is the administrator's error: PAM_SERVICE_ERR.
        self.assert_phase(res, "auth", "PAM_SERVICE_ERR")
        self.assert_logged(res, "CONFIG_INSECURE")
        if conf is not None:
            r = subprocess.run([ARGS.wifctl, "check", "-c", conf],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertIn(path, r.stdout)

    def test_n8_caller_owned_ca_file(self):
        ca = self.caller_file("ca.pem", ENV.ca_file)
        conf, cache = ENV.config("n8-ca", provider=(
            "[provider idp]\nissuer = %s\naudience = %s\n"
            "algorithms = RS256\nca_file = %s\n" % (ENV.issuer, AUD, ca)))
        svc = ENV.service("n8-ca", conf=conf)
        res = self.login(svc, ENV.token(), hostile=False)
        self.assert_refused(res, conf, ca)
        self.assertEqual(ENV.idp.stats()["jwks"], 0)

    def test_n8_caller_owned_jwks_file(self):
        jwks = self.caller_file("jwks.json", ENV.jwks_file)
        conf, cache = ENV.config("n8-jwks", provider=(
            "[provider local]\nissuer = %s\naudience = %s\n"
            "algorithms = RS256\njwks_file = %s\n" % (LOCAL_ISS, AUD, jwks)))
        svc = ENV.service("n8-jwks", conf=conf)
        res = self.login(svc, ENV.token(iss=LOCAL_ISS), hostile=False)
        self.assert_refused(res, conf, jwks)

    def test_n8_caller_owned_token_file(self):
        tok = os.path.join(ENV.home, "%s-token" % self.id_)
        with open(tok, "w") as f:
            f.write(ENV.token(iss=LOCAL_ISS))
        os.chown(tok, ENV.uid, ENV.gid)
        os.chmod(tok, 0o600)
        conf, cache = ENV.config("n8-token", provider=local_provider())
        svc = ENV.service("n8-token", conf=conf,
                          auth_args="source=file:%s" % tok)
        res = self.login(svc, hostile=False)
        self.assert_refused(res)

    def test_n8_caller_owned_cache_parent(self):
        parent = os.path.join(ENV.home, "%s-cachedir" % self.id_)
        os.mkdir(parent, 0o755)
        os.chown(parent, ENV.uid, ENV.gid)
        cache = os.path.join(parent, "cache")
        os.mkdir(cache, 0o700)
        conf, cache = ENV.config("n8-cache", cache_dir=cache)
        svc = ENV.service("n8-cache", conf=conf)
        res = self.login(svc, ENV.token(), hostile=False)
        self.assert_refused(res, conf, parent)
        # Refused before any fetch or write under the caller's directory.
        self.assertEqual(os.listdir(cache), [])
        self.assertEqual(ENV.idp.stats()["jwks"], 0)


class AccountTest(Hostile):
    """WIF_* in the PAM environment set by someone else."""

    def forged(self, text):
        path = os.path.join(ENV.home, "%s-pam_environment" % self.id_)
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, ENV.uid, ENV.gid)
        return path

    def forgery(self, expires="9007199254740992"):
        return ("WIF_PROVIDER=local\nWIF_SUBJECT=alice\n"
                "WIF_ISSUER=%s\nWIF_EXPIRES=%s\nWIF_GRANT=user:alice\n"
                % (LOCAL_ISS, expires))

    def stack(self, name, auth, forge_file):
        conf, cache = ENV.config(name, provider=local_provider())
        permit = os.path.join(ARGS.pam_dir, "pam_permit.so")
        deny = os.path.join(ARGS.pam_dir, "pam_deny.so")
        lines = (auth.replace("@PERMIT@", permit) +
                 "account required %s envfile=%s\n"
                 "account [success=done default=ignore] @MODULE@\n"
                 "account required %s\n" % (ARGS.forge, forge_file, deny))
        return ENV.service(name, conf=conf, lines=lines)

    def test_n9_forged_without_auth(self):
        # Another module authenticated; the user's own envfile names
        # pam_wif's variables. The account phase must not grant.
        forge = self.forged(self.forgery())
        svc = self.stack("n9-forged", "auth required @PERMIT@\n", forge)
        res = self.login(svc, hostile=False)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assertNotEqual(res.code("account"), "PAM_SUCCESS",
                            self.describe(res))

    def test_n9_tampered_after_auth(self):
        # pam_wif authenticated; the values are then changed (a never
        # expiring WIF_EXPIRES) before the account phase.
        forge = self.forged(self.forgery())
        svc = self.stack("n9-tampered",
                         "auth [success=done default=die] @MODULE@\n", forge)
        res = self.login(svc, ENV.token(iss=LOCAL_ISS), hostile=False)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assertNotEqual(res.code("account"), "PAM_SUCCESS",
                            self.describe(res))

    def test_n9_genuine_values_still_grant(self):
        # The control: the same stack with an empty envfile grants.
        forge = self.forged("")
        svc = self.stack("n9-genuine",
                         "auth [success=done default=die] @MODULE@\n", forge)
        res = self.login(svc, ENV.token(iss=LOCAL_ISS), hostile=False)
        self.assert_phase(res, "auth", "PAM_SUCCESS")
        self.assert_phase(res, "account", "PAM_SUCCESS")
        self.assertFalse([k for k in res.env if k.startswith("WIF_") and
                          ("HMAC" in k.upper() or "TAG" in k.upper())],
                         "a binding tag is left in the PAM environment")


class PolicyTest(Hostile):
    """Locale, globs and the lifetime cap, with the caller's LC_ALL."""

    def decide(self, name, token, locale, extra=""):
        conf, cache = ENV.config(name, provider=local_provider(extra))
        svc = ENV.service(name, conf=conf)
        res = self.login(svc, token, hostile=False,
                         env={"LC_ALL": locale, "LANG": locale})
        return res.code("auth"), res

    def test_n10_star_does_not_cross_slash(self):
        req = "require = ref = prod*\n"
        ok, res = self.decide("n10-star-ok", ENV.token(iss=LOCAL_ISS,
                                                       ref="prod-1"),
                              "C.UTF-8", req)
        self.assertEqual(ok, "PAM_SUCCESS", self.describe(res))
        bad, res = self.decide("n10-star", ENV.token(iss=LOCAL_ISS,
                                                     ref="prod/../x"),
                               "C.UTF-8", req)
        self.assertEqual(bad, "PAM_AUTH_ERR", self.describe(res))

    def test_n10_double_star_crosses_slash(self):
        code, res = self.decide("n10-dstar", ENV.token(iss=LOCAL_ISS,
                                                       ref="prod/a/b"),
                                "C.UTF-8", "require = ref = prod/**\n")
        self.assertEqual(code, "PAM_SUCCESS", self.describe(res))

    def test_n10_glob_same_in_every_locale(self):
        # `?` against a two-byte character: the caller's UTF-8 locale must
        # not change the answer the C locale gives.
        tok = ENV.token(iss=LOCAL_ISS, ref="a\u00e9b")
        req = "require = ref = a?b\n"
        in_c, _ = self.decide("n10-q-c", tok, "C", req)
        in_utf8, res = self.decide("n10-q-utf8", tok, "C.UTF-8", req)
        self.assertEqual(in_utf8, in_c, self.describe(res))
        self.assertEqual(in_c, "PAM_AUTH_ERR")

    def test_n10_numbers_same_in_every_locale(self):
        # A fractional exp under a locale whose decimal point is a comma.
        loc = ENV.make_locale("de_DE", "UTF-8", "wifhostile_de.utf8")
        self.assertIsNotNone(loc, "localedef could not build de_DE "
                             "(install the locales package)")
        now = int(time.time())
        tok = ENV.token(iss=LOCAL_ISS, exp=now + 600.5, iat=now - 0.5)
        in_c, _ = self.decide("n10-num-c", tok, "C")
        in_de, res = self.decide("n10-num-de", tok, loc)
        self.assertEqual(in_c, "PAM_SUCCESS")
        self.assertEqual(in_de, in_c, self.describe(res))

    def test_e8_default_lifetime_cap(self):
        now = int(time.time())
        day, _ = self.decide("e8-day", ENV.token(iss=LOCAL_ISS,
                                                 exp=now + 86400), "C")
        self.assertEqual(day, "PAM_SUCCESS")
        forever, res = self.decide("e8-forever", ENV.token(
            iss=LOCAL_ISS, exp=2 ** 53), "C")
        self.assertEqual(forever, "PAM_AUTH_ERR", self.describe(res))
        self.assert_logged(res, "LIFETIME")
        no_iat, res = self.decide("e8-no-iat", ENV.token(
            iss=LOCAL_ISS, exp=now + 40 * 86400, iat=None), "C")
        self.assertEqual(no_iat, "PAM_AUTH_ERR", self.describe(res))

    def test_e8_max_token_age_zero_removes_cap(self):
        code, res = self.decide("e8-zero", ENV.token(
            iss=LOCAL_ISS, exp=2 ** 53), "C", "max_token_age = 0\n")
        self.assertEqual(code, "PAM_SUCCESS", self.describe(res))


def main():
    global ARGS, ENV
    p = argparse.ArgumentParser()
    for opt in ("--module", "--wifctl", "--client", "--forge", "--recorder",
                "--keys"):
        p.add_argument(opt, required=True)
    p.add_argument("--helper", default=os.environ.get("WIF_HOSTILE_HELPER"))
    p.add_argument("--build")
    p.add_argument("--pam-dir", default="/lib/x86_64-linux-gnu/security")
    args, rest = p.parse_known_args()
    for k in ("module", "wifctl", "client", "forge", "recorder", "keys",
              "helper", "build", "pam_dir"):
        if getattr(args, k):
            setattr(args, k, os.path.abspath(getattr(args, k)))
    if os.geteuid() != 0:
        print("test_hostile: needs root (a setuid-root client, a PAM "
              "service in /etc/pam.d, a test user): skipped")
        sys.exit(77)
    if not args.helper and args.build:
        for rel in ("helper/pam_wif-helper", "pam_wif-helper",
                    "helper/pam_wif_helper"):
            cand = os.path.join(args.build, rel)
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                args.helper = cand
                break
    print("test_hostile: helper %s" % (args.helper or "none (module without "
                                       "helper=)"))
    ARGS = args
    # SIGTERM (a ctest timeout) becomes SystemExit, so close() still runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ENV = Env()
    try:
        ENV.open()
        prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False)
    finally:
        ENV.close()
    if prog.result.testsRun == 0:
        print("test_hostile: no test selected")
        sys.exit(1)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
