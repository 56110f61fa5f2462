#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End to end: Cyrus saslauthd (-a pam) authenticates names with pam_wif.

  test_saslauthd.py --module build/pam_wif.so [-v] [Class]

What MongoDB Enterprise (saslauthdSocketPath) and other SASL PLAIN servers
do: hand a user name, a password (here the token) and a service name to
saslauthd over its Unix socket; saslauthd runs the PAM service of that
name. A private saslauthd (Debian's sasl2-bin) runs as root with its own
working directory; testsaslauthd is the client. Needs root; exits 77
(skipped) without it or without sasl2-bin.

saslauthd refuses requests whose password is longer than its MAX_REQ_LEN
(256 bytes in Cyrus SASL 2.1.28, Debian 12) before PAM is involved, and
every token a real issuer mints is longer (800 bytes to 3 KB). FlowTest
therefore uses deliberately compact tokens (ES256, header {"alg":"ES256"},
five short claims: about 230 bytes) to show that the PAM side works;
LimitTest pins down that a token of ordinary size never reaches PAM.
"""
import argparse
import atexit
import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import mint_token  # noqa: E402
import test_idp  # noqa: E402

ARGS = None
SKIP = 77
PYTHON = "/usr/bin/python3"
SASLAUTHD = "/usr/sbin/saslauthd"
TESTSASLAUTHD = "/usr/sbin/testsaslauthd"
AUDIENCE = "db"  # short: the whole token must fit in 256 bytes
NAME = "wif_sasl_app"  # a name in the database's namespace, no account
SASL_MAX = 256  # saslauthd's MAX_REQ_LEN (Cyrus SASL 2.1.28)


class SaslHost:
    def __init__(self, module, helper=None):
        self.module = os.path.abspath(module)
        self.helper = helper
        self.tag = secrets.token_hex(3)
        self.service = "wif-sasl-" + self.tag
        self.dir = None
        self.idp = None
        self.sink = None
        self.saslauthd = None
        self.pam_file = None
        self.syslog_file = None

    def open(self):
        atexit.register(self.close)
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def _open(self):
        self.dir = subprocess.run(["mktemp", "-d", "/run/pam_wif_sasl.XXXXXX"],
                                  check=True, stdout=subprocess.PIPE,
                                  text=True).stdout.strip()
        os.chmod(self.dir, 0o700)
        self.keys = os.path.join(self.dir, "keys")
        subprocess.run([PYTHON, os.path.join(ROOT, "tests/tools/"
                                             "gen_test_keys.py"),
                        "--out", self.keys], check=True,
                       stdout=subprocess.DEVNULL)
        if not os.path.exists("/dev/log"):
            self.syslog_file = os.path.join(self.dir, "syslog")
            ready = self.syslog_file + ".ready"
            self.sink = subprocess.Popen(
                [PYTHON, os.path.join(ROOT, "tests/tools/syslog_sink.py"),
                 "--out", self.syslog_file, "--ready", ready,
                 "--lifetime", "1800"])
            self._wait(lambda: os.path.exists(ready), self.sink, "syslog")
        self.idp = test_idp.IdP(self.keys, os.path.join(self.dir, "idp"),
                                kids=("es256",), lifetime=1800,
                                python=PYTHON).start()
        self.issuer = self.idp.issuer("/s")
        os.mkdir(os.path.join(self.dir, "cache"), 0o700)
        map_file = os.path.join(self.dir, "pam_wif.map")
        with open(map_file, "w") as f:
            f.write("idp user workload-app %s\n" % NAME)
        self.config = os.path.join(self.dir, "pam_wif.conf")
        with open(self.config, "w") as f:
            f.write("[global]\nmap_file = %s\ncache_dir = %s\n"
                    "http_timeout = 5\n\n[provider idp]\nissuer = %s\n"
                    "audience = %s\nalgorithms = ES256\nca_file = %s\n" %
                    (map_file, os.path.join(self.dir, "cache"), self.issuer,
                     AUDIENCE, self.idp.ca_file))
        self.pam_file = "/etc/pam.d/" + self.service
        line = "%s config=%s accounts=names" % (self.module, self.config)
        if self.helper:
            line += " helper=" + os.path.abspath(self.helper)
        with open(self.pam_file, "x") as f:
            f.write("# pam_wif saslauthd test service (temporary)\n"
                    "auth     required %s\naccount  required %s\n" %
                    (line, line))
        self.mux_dir = os.path.join(self.dir, "mux")
        os.mkdir(self.mux_dir, 0o755)
        self.mux = os.path.join(self.mux_dir, "mux")
        self.saslauthd_log = open(os.path.join(self.dir, "saslauthd.log"),
                                  "w")
        # -d: foreground (and verbose); -n 1: one worker; -m: private
        # working directory (socket, pid and lock files).
        self.saslauthd = subprocess.Popen(
            [SASLAUTHD, "-a", "pam", "-m", self.mux_dir, "-n", "1", "-d"],
            stdin=subprocess.DEVNULL, stdout=self.saslauthd_log,
            stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin"},
            start_new_session=True)  # it signals its whole group on exit
        self._wait(lambda: os.path.exists(self.mux), self.saslauthd,
                   "saslauthd")

    @staticmethod
    def _wait(cond, proc, what, timeout=15):
        deadline = time.monotonic() + timeout
        while not cond():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("%s did not start" % what)
            time.sleep(0.05)

    def claims(self, sub, ttl, age):
        now = int(time.time()) - age
        return {"iss": self.issuer, "aud": AUDIENCE, "sub": sub, "iat": now,
                "exp": now + ttl}

    def token(self, sub, ttl=600, age=0, size=None):
        """A token as issuers make them (kid, typ), size characters."""
        return mint_token.mint(self.keys, "es256",
                               self.claims(sub, ttl, age), size)

    def compact(self, sub, ttl=600, age=0):
        """The shortest token pam_wif accepts: no kid, no typ."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        with open(os.path.join(self.keys, "es256.key.pem"), "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        text = b64(b'{"alg":"ES256"}') + "." + b64(json.dumps(
            self.claims(sub, ttl, age), separators=(",", ":")).encode())
        r, s = utils.decode_dss_signature(
            key.sign(text.encode(), ec.ECDSA(hashes.SHA256())))
        return text + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def check(self, name, password):
        """testsaslauthd's answer line, e.g. '0: OK "Success."'."""
        r = subprocess.run([TESTSASLAUTHD, "-u", name, "-p", password, "-s",
                            self.service, "-f", self.mux],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        return r.stdout.strip()

    def log_lines(self):
        if self.syslog_file is None:
            text = subprocess.run(["journalctl", "-q", "-o", "cat",
                                   "--no-pager", "SYSLOG_FACILITY=10"],
                                  stdout=subprocess.PIPE, text=True).stdout
        else:
            try:
                with open(self.syslog_file) as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
        return [l for l in text.splitlines() if "pam_wif" in l]

    def wait_log(self, needle, after, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines()[after:]:
                if needle in line:
                    return line
            time.sleep(0.1)
        return None

    def close(self):
        for proc in (self.saslauthd, self.sink):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.saslauthd = self.sink = None
        if self.idp is not None:
            self.idp.stop()
            self.idp = None
        if self.pam_file and os.path.exists(self.pam_file):
            os.unlink(self.pam_file)
        self.pam_file = None
        if self.dir and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


class SaslTest(unittest.TestCase):
    host = None

    @classmethod
    def setUpClass(cls):
        cls.host = SaslHost(ARGS.module, ARGS.helper).open()

    @classmethod
    def tearDownClass(cls):
        if cls.host is not None:
            cls.host.close()

    def assert_ok(self, name, token):
        mark = len(self.host.log_lines())
        self.assertEqual(self.host.check(name, token), '0: OK "Success."')
        line = self.host.wait_log("auth outcome=success", mark)
        self.assertIsNotNone(line)
        self.assertIn('account="%s"' % name, line)

    def assert_no(self, name, password, reason):
        mark = len(self.host.log_lines())
        self.assertEqual(self.host.check(name, password),
                         '0: NO "authentication failed"')
        if reason is None:
            return None
        line = self.host.wait_log("reason=" + reason, mark)
        self.assertIsNotNone(line, "no pam_wif line with %s in %r" %
                             (reason, self.host.log_lines()[mark:]))
        return line


class FlowTest(SaslTest):
    def compact(self, sub, **kw):
        token = self.host.compact(sub, **kw)
        self.assertLessEqual(len(token), SASL_MAX)
        return token

    def test_mapped_name_with_its_token(self):
        self.assert_ok(NAME, self.compact("workload-app"))

    def test_unmapped_identity(self):
        self.assert_no(NAME, self.compact("workload-other"), "NO_MAPPING")

    def test_identity_mapped_to_another_name(self):
        self.assert_no("wif_sasl_other", self.compact("workload-app"),
                       "NO_MAPPING")

    def test_password_that_is_not_a_token(self):
        self.assert_no(NAME, "correct horse battery staple", "MALFORMED")

    def test_expired_token(self):
        self.assert_no(NAME, self.compact("workload-app", age=1200),
                       "EXPIRED")


class LimitTest(SaslTest):
    def test_tokens_of_ordinary_size_never_reach_pam(self):
        # 800 bytes: smaller than what GitHub, Kubernetes, GCP or Azure
        # issue. saslauthd answers NO without running the PAM service.
        token = self.host.token("workload-app", size=800)
        self.assertGreater(len(token), SASL_MAX)
        mark = len(self.host.log_lines())
        self.assert_no(NAME, token, None)
        time.sleep(1)
        self.assertEqual(self.host.log_lines()[mark:], [])
        with open(self.host.saslauthd_log.name) as f:
            self.assertIn("password exceeded MAX_REQ_LEN", f.read())


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--module", required=True)
    ap.add_argument("--helper", help="the key-fetch helper (helper=PATH)")
    ARGS, rest = ap.parse_known_args()
    if os.geteuid() != 0:
        print("test_saslauthd: needs root; skipped", file=sys.stderr)
        return SKIP
    if not (os.access(SASLAUTHD, os.X_OK) and
            os.access(TESTSASLAUTHD, os.X_OK)):
        print("test_saslauthd: no saslauthd (tests/install_deps.sh installs "
              "sasl2-bin); skipped", file=sys.stderr)
        return SKIP
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
