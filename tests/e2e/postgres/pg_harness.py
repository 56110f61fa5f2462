# SPDX-License-Identifier: Apache-2.0
"""A private PostgreSQL server on loopback that authenticates with pam_wif.

Used by test_postgres.py and tests/bench/bench_postgres.py. Everything it
creates is named with a random suffix and removed by close(), also after a
failure or on SIGTERM (atexit):

  - a work directory /run/pam_wif_pg.XXXXXX (root, 0755, so that the
    server's backends, which run as postgres, can read the configuration):
      etc/     pam_wif.conf, pam_wif.map, ca.pem: root-owned, 0644
      cache/   the key cache, owned by postgres, 0700
      keys/ idp/  signing keys and the test IdP's state, root only
      pg/      data directory and Unix socket, owned by postgres, 0700
  - the loopback HTTPS test identity provider (tests/tools/test_idp.py);
  - PAM services /etc/pam.d/wif-pg-XXXXXX (accounts=names) and
    /etc/pam.d/wif-pg-XXXXXX-unix (the default, accounts=unix);
  - a server started by initdb + pg_ctl as postgres, listening on
    127.0.0.1 on a free port only, with its socket in pg/;
  - a syslog receiver when the machine has no /dev/log.

pg_hba.conf routes by database: unixdb -> the accounts=unix service,
scramdb -> scram-sha-256 (the benchmark's baseline), everything else ->
the accounts=names service. Needs root and Debian's postgresql package;
nothing is installed here.

The PAM line is built in one place (pam_args): a key-fetch helper
(`helper=PATH`) is one more word there.
"""
import atexit
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))

import mint_token  # noqa: E402
import test_idp  # noqa: E402

PYTHON = "/usr/bin/python3"
AUDIENCE = "api://pam-wif-pg"
SERVICE_USER = "postgres"
START_TIMEOUT = 30  # seconds, pg_ctl -t
STOP_TIMEOUT = 20
ROLES = ("wif_pg_app", "wif_pg_ro", "nobody")
SCRAM_ROLE = "wif_pg_scram"


def pg_bindir():
    """The newest installed server's binaries (Debian: one per version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=60, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout,
                          **kw)


class PgHost:
    def __init__(self, module, helper=None, extra_hba=(),
                 log=lambda msg: None):
        self.module = os.path.abspath(module)
        self.extra_hba = list(extra_hba)  # lines ahead of the pam ones
        self.helper = helper
        self.log = log
        self.tag = secrets.token_hex(3)
        self.service = "wif-pg-" + self.tag
        self.bindir = pg_bindir()
        self.pw = pwd.getpwnam(SERVICE_USER)
        self.dir = None
        self.idp = None
        self.sink = None
        self.syslog_file = None
        self.pam_files = []
        self.pg_started = False
        self.scram_password = secrets.token_urlsafe(18)

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
        if os.geteuid() != 0:
            raise PermissionError("the PostgreSQL host needs root")
        if self.bindir is None:
            raise FileNotFoundError("no PostgreSQL server: apt-get install "
                                    "postgresql (tests/install_deps.sh)")
        self.dir = run(["mktemp", "-d", "/run/pam_wif_pg.XXXXXX"]).stdout
        self.dir = self.dir.strip()
        os.chmod(self.dir, 0o755)
        self.etc = self._mkdir("etc", 0o755)
        self.cache = self._mkdir("cache", 0o700, owner=self.pw)
        self.keys = os.path.join(self._mkdir("private", 0o700), "keys")
        run([PYTHON, os.path.join(ROOT, "tests/tools/gen_test_keys.py"),
             "--out", self.keys])
        self._start_syslog()
        self.log("starting the identity provider")
        self.idp = test_idp.IdP(self.keys,
                                os.path.join(self.dir, "private", "idp"),
                                kids=("rs256", "es256"), lifetime=3600,
                                python=PYTHON).start()
        self.issuer = self.idp.issuer("/pg")
        # An administrator's copy of the CA: root-owned, readable by all.
        shutil.copyfile(self.idp.ca_file, os.path.join(self.etc, "ca.pem"))
        os.chmod(os.path.join(self.etc, "ca.pem"), 0o644)
        self._write_config()
        self._write_pam_services()
        self._start_postgres()

    def _mkdir(self, name, mode, owner=None):
        path = os.path.join(self.dir, name)
        os.mkdir(path, mode)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        return path

    def _write(self, path, text, mode=0o644):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def _start_syslog(self):
        if os.path.exists("/dev/log"):
            return
        self.syslog_file = os.path.join(self.dir, "private", "syslog")
        ready = self.syslog_file + ".ready"
        self.sink = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "tests/tools/syslog_sink.py"),
             "--out", self.syslog_file, "--ready", ready, "--lifetime",
             "3600"])
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if self.sink.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the syslog receiver did not start")
            time.sleep(0.05)

    def _write_config(self):
        self.map_file = self._write(os.path.join(self.etc, "pam_wif.map"), (
            "# provider  type  identifier  roles\n"
            "idp  user  workload-app     wif_pg_app\n"
            "idp  user  workload-ro      wif_pg_ro\n"
            "idp  user  workload-nobody  nobody\n"))
        self.config = self._write(os.path.join(self.etc, "pam_wif.conf"), (
            "[global]\n"
            "map_file = {map}\n"
            "cache_dir = {cache}\n"
            "http_timeout = 5\n"
            "log_claims = sub\n"
            "\n"
            "[provider idp]\n"
            "issuer = {iss}\n"
            "audience = {aud}\n"
            "algorithms = RS256 ES256\n"
            "ca_file = {ca}\n").format(
                map=self.map_file, cache=self.cache, iss=self.issuer,
                aud=AUDIENCE, ca=os.path.join(self.etc, "ca.pem")))

    def pam_args(self, *extra):
        """The module's arguments: the one place a helper= joins them."""
        args = ["config=" + self.config]
        if self.helper:
            args.append("helper=" + os.path.abspath(self.helper))
        return " ".join(args + list(extra))

    def _write_pam_services(self):
        for suffix, extra in (("", ("accounts=names",)), ("-unix", ())):
            path = "/etc/pam.d/" + self.service + suffix
            line = "%s %s" % (self.module, self.pam_args(*extra))
            with open(path, "x") as f:
                f.write("# pam_wif PostgreSQL test service (temporary)\n"
                        "auth     required %s\n"
                        "account  required %s\n" % (line, line))
            self.pam_files.append(path)

    def as_postgres(self, cmd, timeout=60, **kw):
        return subprocess.run(
            cmd, user=self.pw.pw_uid, group=self.pw.pw_gid, extra_groups=[],
            cwd=self.pg, env={"PATH": "/usr/bin:/bin", "LANG": "C"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)

    def _check(self, r, what):
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (
                what, r.returncode, r.stdout, r.stderr))
        return r

    def _start_postgres(self):
        self.pg = self._mkdir("pg", 0o700, owner=self.pw)
        self.data = os.path.join(self.pg, "data")
        self.sock = os.path.join(self.pg, "sock")
        self.pg_log = os.path.join(self.pg, "server.log")
        os.mkdir(self.sock, 0o700)
        os.chown(self.sock, self.pw.pw_uid, self.pw.pw_gid)
        self.log("initdb")
        self._check(self.as_postgres(
            [os.path.join(self.bindir, "initdb"), "-D", self.data, "-U",
             "postgres", "--auth-local=peer", "--auth-host=reject",
             "--no-instructions", "--no-sync", "-E", "UTF8",
             "--locale=C"], timeout=120), "initdb")
        self.port = free_port()
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# pam_wif test server\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "password_encryption = 'scram-sha-256'\n"
                    "max_connections = 20\n"
                    "shared_buffers = 16MB\n"
                    "fsync = off\n"
                    "log_connections = on\n" % (self.port, self.sock))
        hba = os.path.join(self.data, "pg_hba.conf")
        self._write(hba, (
            "# pam_wif test server (first match wins)\n"
            "local  all     postgres                 peer\n"
            "{extra}"
            "host   unixdb  all       127.0.0.1/32   pam pamservice={svc}-unix\n"
            "host   scramdb all       127.0.0.1/32   scram-sha-256\n"
            "host   all     all       127.0.0.1/32   pam pamservice={svc}\n"
        ).format(svc=self.service,
                 extra="".join(l + "\n" for l in self.extra_hba)), 0o600)
        os.chown(hba, self.pw.pw_uid, self.pw.pw_gid)
        self.log("starting postgres on 127.0.0.1:%d" % self.port)
        self.pg_started = True
        self._check(self.as_postgres(
            [os.path.join(self.bindir, "pg_ctl"), "start", "-D", self.data,
             "-w", "-t", str(START_TIMEOUT), "-l", self.pg_log],
            timeout=START_TIMEOUT + 10), "pg_ctl start")
        self.sql("CREATE DATABASE unixdb")
        self.sql("CREATE DATABASE scramdb")
        for role in ROLES:
            self.sql('CREATE ROLE "%s" LOGIN' % role)
        self.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" %
                 (SCRAM_ROLE, self.scram_password))

    def sql(self, statement):
        """Runs one statement as the superuser over the private socket."""
        return self._check(self.as_postgres(
            [os.path.join(self.bindir, "psql"), "-X", "-q", "-At", "-v",
             "ON_ERROR_STOP=1", "-h", self.sock, "-p", str(self.port), "-U",
             "postgres", "-d", "postgres", "-c", statement]),
            statement).stdout

    # ---- use ----

    def token(self, sub, ttl=600, age=0, size=None, kid="rs256", aud=AUDIENCE,
              iss=None):
        now = int(time.time()) - age
        claims = {"iss": iss or self.issuer, "aud": aud, "sub": sub,
                  "iat": now, "nbf": now, "exp": now + ttl}
        return mint_token.mint(self.keys, kid, claims, size)

    def psql(self, role, password, db="postgres",
             query="SELECT current_user", timeout=60):
        """A client login over TCP with the password from PGPASSWORD."""
        env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": self.dir,
               "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10",
               "PGSSLMODE": "disable"}
        return subprocess.run(
            [os.path.join(self.bindir, "psql"), "-X", "-w", "-At", "-h",
             "127.0.0.1", "-p", str(self.port), "-U", role, "-d", db, "-c",
             query], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env, timeout=timeout)

    def log_lines(self):
        """pam_wif's syslog lines so far."""
        if self.syslog_file is not None:
            try:
                with open(self.syslog_file) as f:
                    text = f.read()
            except FileNotFoundError:
                return []
        else:
            text = subprocess.run(
                ["journalctl", "-q", "-o", "cat", "--no-pager",
                 "SYSLOG_FACILITY=10"], stdout=subprocess.PIPE,
                text=True).stdout
        return [l for l in text.splitlines() if "pam_wif" in l]

    def wait_log(self, needle, after=0, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_lines()[after:]:
                if needle in line:
                    return line
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)

    def server_log(self):
        try:
            with open(self.pg_log) as f:
                return f.read()
        except (FileNotFoundError, AttributeError):
            return ""

    # ---- teardown ----

    def _stop_postgres(self):
        if not self.pg_started:
            return
        self.pg_started = False
        pg_ctl = os.path.join(self.bindir, "pg_ctl")
        for mode in ("fast", "immediate"):
            try:
                r = self.as_postgres([pg_ctl, "stop", "-D", self.data, "-m",
                                      mode, "-w", "-t", str(STOP_TIMEOUT)],
                                     timeout=STOP_TIMEOUT + 10)
                if r.returncode == 0 or "Is server running?" in r.stderr:
                    return
            except subprocess.TimeoutExpired:
                pass
        # Last resort: the postmaster named in its own pid file.
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                pid = int(f.readline())
            os.kill(pid, 9)
        except (OSError, ValueError):
            pass

    def close(self):
        self._stop_postgres()
        if self.idp is not None:
            self.idp.stop()
            self.idp = None
        for path in self.pam_files:
            if os.path.exists(path):
                os.unlink(path)
        self.pam_files = []
        if self.sink is not None:
            self.sink.terminate()
            try:
                self.sink.wait(10)
            except subprocess.TimeoutExpired:
                self.sink.kill()
            self.sink = None
        if self.dir and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()
