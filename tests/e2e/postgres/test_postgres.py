#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End to end: a real PostgreSQL server authenticates roles with pam_wif.

  test_postgres.py --module build/pam_wif.so --wifctl build/wifctl
                   [--helper PATH] [-v] [Class]

The server (pg_harness.py) runs as postgres in a private data directory on
127.0.0.1; the client is the real psql with the token as PGPASSWORD. Needs
root and Debian's postgresql package; exits 77 (skipped) otherwise.
"""
import os
import pwd
import signal
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg_harness  # noqa: E402
import testmain  # noqa: E402

ARGS = None
APP = "wif_pg_app"
RO = "wif_pg_ro"


class PgTest(unittest.TestCase):
    host = None

    @classmethod
    def setUpClass(cls):
        cls.host = pg_harness.PgHost(ARGS.module, helper=ARGS.helper).open()

    @classmethod
    def tearDownClass(cls):
        if cls.host is not None:
            cls.host.close()

    def assert_in(self, role, token, db="postgres"):
        mark = len(self.host.log_lines())
        r = self.host.psql(role, token, db=db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), role)
        line = self.host.wait_log("auth outcome=success", mark)
        self.assertIsNotNone(line, "no pam_wif success line")
        self.assertIn('account="%s"' % role, line)
        return line

    def assert_out(self, role, password, reason, db="postgres"):
        mark = len(self.host.log_lines())
        r = self.host.psql(role, password, db=db)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertEqual(r.stdout, "")
        self.assertIn('PAM authentication failed for user "%s"' % role,
                      r.stderr)
        line = self.host.wait_log("reason=" + reason, mark)
        self.assertIsNotNone(line, "no pam_wif line with %s in %r" %
                             (reason, self.host.log_lines()[mark:]))
        self.assertIn('account="%s"' % role, line)
        return line


class PostgresLoginTest(PgTest):
    def test_mapped_role_logs_in_with_its_token(self):
        line = self.assert_in(APP, self.host.token("workload-app"))
        self.assertIn('sub="workload-app"', line)
        self.assertIn("pam_wif.map:2", line)
        # The account phase ran too (PostgreSQL calls pam_acct_mgmt).
        self.assertIsNotNone(self.host.wait_log("account outcome=success"))

    def test_es256_token(self):
        self.assert_in(RO, self.host.token("workload-ro", kid="es256"))

    def test_6kb_token(self):
        token = self.host.token("workload-app", size=6144)
        self.assertGreaterEqual(len(token), 6142)
        self.assert_in(APP, token)

    def test_token_limit_is_pam_wifs_not_postgresqls(self):
        # PostgreSQL takes password packets up to 65535 bytes
        # (PG_MAX_AUTH_TOKEN_LENGTH); pam_wif's own limit is 16384.
        token = self.host.token("workload-app", size=16384)
        self.assertGreaterEqual(len(token), 16382)
        self.assert_in(APP, token)
        line = self.assert_out(APP, self.host.token("workload-app",
                                                    size=17000), "TOO_LARGE")
        self.assertIn("longer than 16384 bytes", line)

    def client_recipe(self, token_file):
        """The documented client recipe (pam_wif(8), DATABASE LOGINS)."""
        h = self.host
        script = ('( PGPASSWORD=$("$WIFCTL" token --source file:"$1") && '
                  'export PGPASSWORD && exec "$PSQL" -X -w -At -h 127.0.0.1 '
                  '-p "$2" -U "$3" -d postgres -c "SELECT current_user" )')
        env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": h.dir,
               "WIFCTL": ARGS.wifctl, "PGSSLMODE": "disable",
               "PSQL": os.path.join(h.bindir, "psql")}
        return subprocess.run(["/bin/sh", "-c", script, "sh", token_file,
                               str(h.port), APP], env=env,
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60)

    def test_client_recipe_with_wifctl_token(self):
        path = os.path.join(self.host.dir, "private", "token")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.host.token("workload-app"))
        try:
            r = self.client_recipe(path)
            self.assertEqual((r.returncode, r.stdout.strip()), (0, APP),
                             r.stderr)
        finally:
            os.unlink(path)
        # No token: wifctl fails and psql never runs (no login attempt).
        mark = len(self.host.log_lines())
        r = self.client_recipe(path)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("psql", r.stderr)
        self.assertIsNone(self.host.wait_log("outcome=", mark, timeout=1))

    def test_unix_service_accepts_a_role_that_is_a_unix_account(self):
        # The control for the refusal in PostgresRefusalTest: the
        # accounts=unix service works when the role is also an account.
        self.assert_in("nobody", self.host.token("workload-nobody"),
                       db="unixdb")


class PostgresRefusalTest(PgTest):
    def test_unmapped_identity(self):
        line = self.assert_out(APP, self.host.token("workload-other"),
                               "NO_MAPPING")
        self.assertIn('sub="workload-other"', line)

    def test_identity_mapped_to_another_role(self):
        line = self.assert_out(RO, self.host.token("workload-app"),
                               "NO_MAPPING")
        self.assertIn('grants account "%s" to user "workload-app"' % RO, line)

    def test_password_that_is_not_a_token(self):
        self.assert_out(APP, "correct horse battery staple", "MALFORMED")

    def test_expired_token(self):
        self.assert_out(APP, self.host.token("workload-app", ttl=600,
                                             age=1200), "EXPIRED")

    def test_wrong_audience(self):
        self.assert_out(APP, self.host.token("workload-app", aud="api://x"),
                        "AUD_MISMATCH")

    def test_role_that_is_no_unix_account_needs_accounts_names(self):
        with self.assertRaises(KeyError):
            pwd.getpwnam(APP)
        line = self.assert_out(APP, self.host.token("workload-app"),
                               "NO_MAPPING", db="unixdb")
        self.assertIn("does not exist on this host", line)
        self.assertIn("wif-pg-%s-unix:auth" % self.host.tag, line)


class PostgresKeyCacheTest(PgTest):
    def test_keys_fetched_once_as_postgres_and_reused_by_backends(self):
        h = self.host
        for name in os.listdir(h.cache):
            os.unlink(os.path.join(h.cache, name))
        h.idp.reset()
        token = h.token("workload-app")
        mark = len(h.log_lines())
        for _ in range(3):  # three connections: three backend processes
            r = h.psql(APP, token)
            self.assertEqual(r.returncode, 0, r.stderr)
        stats = h.idp.stats()
        self.assertEqual((stats["discovery"], stats["jwks"]), (1, 1), stats)
        fetched = [l for l in h.log_lines()[mark:] if "fetched" in l]
        self.assertEqual(len(fetched), 1, fetched)
        names = os.listdir(h.cache)
        self.assertTrue(any(n.endswith(".json") for n in names), names)
        for name in names:
            st = os.stat(os.path.join(h.cache, name))
            self.assertEqual(st.st_uid, h.pw.pw_uid, name)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, name)
        # The IdP goes down: later backends log in from the cache alone.
        h.idp.config(mode="500")
        try:
            self.assert_in(APP, h.token("workload-app"))
            self.assertEqual(h.idp.stats()["total"], 2)
        finally:
            h.idp.config(mode="ok")

    def test_config_is_roots_and_only_the_cache_is_postgres(self):
        h = self.host
        for path in (h.config, h.map_file, os.path.join(h.etc, "ca.pem")):
            st = os.stat(path)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)),
                             (0, 0o644), path)
        st = os.stat(h.cache)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)),
                         (h.pw.pw_uid, 0o700))
        self.assert_in(APP, h.token("workload-app"))


def publish(args):
    global ARGS
    ARGS = args


def prepare(args, rest):
    if os.geteuid() != 0:
        raise testmain.Skip("needs root")
    if pg_harness.pg_bindir() is None:
        raise testmain.Skip("no PostgreSQL server (tests/install_deps.sh "
                            "installs postgresql)")
    # ctest's timeout sends SIGTERM: clean up through atexit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


if __name__ == "__main__":
    # --wifctl: for the client recipe; --helper: the key-fetch helper.
    testmain.main(["--module", "--wifctl"], prepare, publish,
                  optional=["--helper"])
