#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Keys over HTTPS: wifctl against the loopback test identity provider.

The IdP (tests/tools/test_idp.py) serves discovery and a JWKS over HTTPS
with a throwaway CA, counts requests and switches into fault modes. Tokens
are minted here with PyJWT from the keys gen_test_keys.py wrote. Time-based
cases age the cache file and the lock file's fetch time instead of
sleeping (the unit tests use an injected clock). Case ids refer to
shared/SECURITY-CASES.md.

Usage: test_keys.py --wifctl PATH --keys DIR --idp PATH --tmp DIR [args]
"""
import glob
import calendar
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

import jwt
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../tools"))
import testmain  # noqa: E402

WIFCTL = KEYS = IDP = TMP_PARENT = None
AUD = "wif-test-audience"
HTTP_TIMEOUT = 2
# Bounds on a wait only show that it did not block (on a hang, a 30 s
# delay): the margin is for slow runs (ASan, a loaded machine), never a
# speed target (those live in tests/bench).
SLOW_RUN = 15
KID_ALG = {"rs256": "RS256", "es256": "ES256", "ps256": "PS256"}


def iso_seconds(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def load_idp_module():
    sys.path.insert(0, os.path.dirname(IDP))
    import test_idp  # noqa: E402
    return test_idp


class KeysCase(unittest.TestCase):
    """One IdP per class; a fresh config and cache per test."""

    kids = ("rs256",)

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="keys-", dir=TMP_PARENT)
        os.chmod(cls.base, 0o755)
        cls.idp = load_idp_module().IdP(
            KEYS, os.path.join(cls.base, "idp"), kids=cls.kids, lifetime=300)
        cls.idp.start()
        # Readable by the unprivileged user of CliTest (the CA only).
        os.chmod(os.path.join(cls.base, "idp"), 0o755)

    @classmethod
    def tearDownClass(cls):
        cls.idp.stop()
        shutil.rmtree(cls.base, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=self.base)
        os.chmod(self.dir, 0o755)
        self.xdg = os.path.join(self.dir, "xdg")
        self.cache = os.path.join(self.xdg, "pam_wif")
        os.mkdir(self.xdg, 0o755)
        self.issuer = self.idp.issuer("/tenant")
        self.idp.config(mode="ok", fault_on="all", kids=list(self.kids),
                        jwks_raw=None, cache_control=None, delay=2)
        self.idp.reset()
        self.conf = self.write_conf()

    def write_conf(self, extra_global="", providers=None,
                   timeout=HTTP_TIMEOUT):
        # Root uses cache_dir, anyone else $XDG_CACHE_HOME/pam_wif: both
        # name the same directory here.
        text = ("[global]\ncache_dir = %s\nhttp_timeout = %d\n%s\n"
                % (self.cache, timeout, extra_global))
        text += providers or (
            "[provider idp]\nissuer = %s\naudience = %s\n"
            "algorithms = RS256 ES256 PS256\nca_file = %s\n"
            % (self.issuer, AUD, self.idp.ca_file))
        path = os.path.join(self.dir, "pam_wif.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def env(self, **extra):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.dir,
               "XDG_CACHE_HOME": self.xdg, "LC_ALL": "C"}
        # Root's cache is written by the build tree's fetch helper.
        if "WIF_HELPER" in os.environ:
            env["WIF_HELPER"] = os.environ["WIF_HELPER"]
        env.update(extra)
        return env

    def run_wifctl(self, *args, env=None, timeout=60, user=None):
        cmd = [WIFCTL] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user.pw_uid,
                   "--regid=%d" % user.pw_gid, "--clear-groups", "--"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True,
                              env=env or self.env(), timeout=timeout)

    def token(self, kid="rs256", **over):
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": AUD, "sub": "alice", "iat": now,
                  "exp": now + 600}
        claims.update(over)
        with open(os.path.join(KEYS, kid + ".key.pem"), "rb") as f:
            key = f.read()
        return jwt.encode(claims, key, algorithm=KID_ALG[kid],
                          headers={"kid": kid})

    def verify(self, token, **kw):
        return self.run_wifctl("verify", "-c", self.conf, "--json", token,
                               **kw)

    def assert_valid(self, r):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(json.loads(r.stdout)["valid"])

    def reason(self, r):
        return json.loads(r.stdout)["reason"]

    def stats(self):
        return self.idp.stats()

    def cache_file(self):
        files = glob.glob(os.path.join(self.cache, "*.json"))
        self.assertEqual(len(files), 1, files)
        return files[0]

    def read_cache(self):
        with open(self.cache_file(), "rb") as f:
            return f.read()

    def age_cache(self, fetched_at, fresh_until):
        """Moves the cached set in time (as root would have to)."""
        path = self.cache_file()
        with open(path) as f:
            doc = json.load(f)
        doc["fetched_at"] = int(fetched_at)
        doc["fresh_until"] = int(fresh_until)
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, path)

    def age_attempt(self, seconds_ago=3600):
        """Pretends the last fetch started long ago (the refresh minute)."""
        for lock in glob.glob(os.path.join(self.cache, "*.lock")):
            with open(lock, "w") as f:
                f.write("%d\n" % (int(time.time()) - seconds_ago))

    def restamp_attempt(self, after):
        """Moves the last fetch (and its failure, if any) to now: a slow
        run must not see the refresh minute or the hold-off run out
        between the fetch and the checks of what it holds off. after:
        the fetch this process saw recorded, at or after that time."""
        locks = glob.glob(os.path.join(self.cache, "*.lock"))
        self.assertEqual(len(locks), 1, locks)
        with open(locks[0]) as f:
            text = f.read()
        m = re.match(r"([0-9]+)(\D.*)?\n$", text, re.S)
        self.assertTrue(m, text)
        self.assertGreaterEqual(int(m.group(1)), int(after), text)
        with open(locks[0], "w") as f:
            f.write("%d%s\n" % (int(time.time()), m.group(2) or ""))

    def make_stale(self, past_fresh=10):
        now = time.time()
        self.age_cache(now - past_fresh - 3600, now - past_fresh)
        self.age_attempt()


class DiscoveryTest(KeysCase):
    def test_cold_then_warm(self):
        r = self.verify(self.token())
        self.assert_valid(r)
        s = self.stats()
        self.assertEqual((s["discovery"], s["jwks"]), (1, 1))
        st = os.stat(self.cache)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertEqual(st.st_uid, os.geteuid())
        st = os.stat(self.cache_file())
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, os.geteuid())
        # I7: the name is a hash, never the issuer or a kid.
        name = os.path.basename(self.cache_file())
        self.assertRegex(name, r"^[0-9a-f]{64}\.json$")
        # Warm: not one request.
        self.idp.reset()
        for _ in range(3):
            self.assert_valid(self.verify(self.token()))
        self.assertEqual(self.stats()["total"], 0)

    def test_trailing_slash_issuer(self):
        self.issuer = self.idp.issuer("/tenant/")
        # The IdP answers for /tenant with issuer .../tenant: exact match
        # fails, which proves the document is checked, and the URL had no
        # double slash (the IdP saw a discovery request).
        self.conf = self.write_conf()
        r = self.verify(self.token())
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("not the configured one", r.stdout + r.stderr)
        self.assertEqual(self.stats()["discovery"], 1)

    def test_jwks_uri_skips_discovery(self):
        self.conf = self.write_conf(providers=(
            "[provider idp]\nissuer = %s\naudience = %s\njwks_uri = %s\n"
            "ca_file = %s\n" % (self.issuer, AUD, self.issuer + "/jwks",
                                self.idp.ca_file)))
        self.assert_valid(self.verify(self.token()))
        s = self.stats()
        self.assertEqual((s["discovery"], s["jwks"]), (0, 1))

    def test_env_proxy_ignored(self):
        # J16: proxies in the environment are never used.
        env = self.env(https_proxy="http://127.0.0.1:1",
                       HTTPS_PROXY="http://127.0.0.1:1",
                       ALL_PROXY="http://127.0.0.1:1")
        self.assert_valid(self.verify(self.token(), env=env))
        self.assertEqual(self.stats()["jwks"], 1)

    def test_configured_proxy_used(self):
        self.conf = self.write_conf("https_proxy = http://127.0.0.1:1\n")
        r = self.verify(self.token())
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(self.stats()["total"], 0)

    def test_cache_control(self):
        self.idp.config(cache_control="max-age=900")
        self.assert_valid(self.verify(self.token()))
        with open(self.cache_file()) as f:
            doc = json.load(f)
        self.assertEqual(doc["fresh_until"] - doc["fetched_at"], 900)


class RotationTest(KeysCase):
    kids = ("rs256",)

    def test_new_kid_one_refetch_and_flood(self):
        self.assert_valid(self.verify(self.token("rs256")))
        self.idp.config(kids=["rs256", "es256"])
        self.age_attempt(120)  # the first fetch was two minutes ago
        self.idp.reset()
        fetched = int(time.time())
        self.assert_valid(self.verify(self.token("es256")))
        self.assertEqual(self.stats()["jwks"], 1)
        # J10: a flood of unknown kids within the minute: no fetch.
        self.idp.reset()
        for _ in range(15):
            self.restamp_attempt(fetched)
            r = self.verify(self.token("ps256"))
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(self.reason(r), "KEY_NOT_FOUND")
        self.assertEqual(self.stats()["total"], 0)
        # After the minute: exactly one more.
        self.age_attempt(61)
        for _ in range(5):
            self.verify(self.token("ps256"))
        self.assertEqual(self.stats()["jwks"], 1)


class ConcurrencyTest(KeysCase):
    def test_fifty_logins_one_fetch(self):
        # A waiter gives up on the lock after http_timeout + 2 s and fetches
        # itself: by design, but 50 processes on a slow machine may take
        # that long. A long timeout keeps the test about the lock.
        self.conf = self.write_conf(timeout=30)
        self.assert_valid(self.verify(self.token()))
        self.make_stale()
        self.idp.config(mode="slow", delay=0.3, kids=["rs256", "es256"])
        self.idp.reset()
        tok = self.token()
        procs = [subprocess.Popen([WIFCTL, "verify", "-c", self.conf, tok],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=self.env())
                 for _ in range(50)]
        codes = [p.wait(60) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(codes, [0] * 50)
        s = self.stats()
        self.assertEqual((s["discovery"], s["jwks"]), (1, 1))


class OutageTest(KeysCase):
    def setUp(self):
        super().setUp()
        self.assert_valid(self.verify(self.token()))

    def stale_survives(self, **mode):
        self.make_stale()
        self.idp.config(**mode)
        self.idp.reset()
        t0 = time.monotonic()
        r = self.verify(self.token())
        elapsed = time.monotonic() - t0
        self.assert_valid(r)
        self.assertIn("past their freshness", r.stderr)
        self.assertLess(elapsed, HTTP_TIMEOUT + SLOW_RUN)  # not the delay
        return elapsed

    def test_down(self):
        self.stale_survives(mode="reset")

    def test_500(self):
        self.stale_survives(mode="500")

    def test_slow(self):
        elapsed = self.stale_survives(mode="slow", delay=30)
        self.assertGreaterEqual(elapsed, HTTP_TIMEOUT - 0.5)

    def test_hanging(self):
        self.stale_survives(mode="hang")

    def test_no_retry_within_the_minute(self):
        self.stale_survives(mode="hang")
        # A retry would now wait 30 s on the hanging IdP: far from the
        # bound, however slow the run.
        self.conf = self.write_conf(timeout=30)
        self.idp.reset()
        t0 = time.monotonic()
        self.assert_valid(self.verify(self.token()))
        self.assertLess(time.monotonic() - t0, SLOW_RUN)  # did not wait
        self.assertEqual(self.stats()["total"], 0)

    def test_past_stale_limit_unavailable(self):
        # J13: 24 h past freshness the cached keys are no longer used.
        now = time.time()
        self.age_cache(now - 86400 - 7200, now - 86400 - 10)
        self.age_attempt()
        self.idp.config(mode="500")
        r = self.verify(self.token())
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(self.reason(r), "JWKS_UNAVAILABLE")

    def test_future_cache_is_stale(self):
        # I12: timestamps in the future are stale: a fetch happens.
        now = time.time()
        self.age_cache(now + 3600, now + 7200)
        self.age_attempt()
        self.idp.reset()
        self.assert_valid(self.verify(self.token()))
        self.assertEqual(self.stats()["jwks"], 1)


# (mode, fault_on, expected text in the error)
FAULTS = [
    ("500", "all", "HTTP status 500"),
    ("404", "all", "HTTP status 404"),
    ("404", "jwks", "HTTP status 404"),
    ("slow", "all", "no answer within"),
    ("hang", "jwks", "no answer within"),
    ("close", "jwks", "transfer closed"),
    ("garbage", "all", "discovery document is not valid JSON"),
    ("garbage", "jwks", "not a usable key set"),
    ("html", "jwks", "not a usable key set"),
    ("oversize", "jwks", "larger than 1048576 bytes"),
    ("oversize-length", "all", "larger than 1048576 bytes"),
    ("gzip", "jwks", "not a usable key set"),
    ("redirect-http", "all", "HTTP status 302"),
    ("redirect-http", "jwks", "HTTP status 302"),
    ("empty-keys", "all", "not a usable key set"),
    ("wrong-issuer", "all", "not the configured one"),
    ("wrong-host", "all", "no alternative certificate subject name"),
    ("untrusted-ca", "all", "unable to get local issuer certificate"),
    ("reset", "all", "onnect"),  # refused or reset
]


class FaultTest(KeysCase):
    def test_each_fault_keeps_the_good_cache(self):
        self.assert_valid(self.verify(self.token()))
        good = self.read_cache()
        for mode, where, text in FAULTS:
            with self.subTest(mode=mode, fault_on=where):
                self.idp.config(mode=mode, fault_on=where, delay=30)
                self.idp.reset()
                t0 = time.monotonic()
                r = self.run_wifctl("jwks", "fetch", "-c", self.conf, "idp")
                self.assertLess(time.monotonic() - t0,
                                HTTP_TIMEOUT + SLOW_RUN)  # not the delay
                self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
                self.assertIn("JWKS_UNAVAILABLE", r.stderr)
                self.assertIn(text, r.stderr)
                if mode in ("wrong-host", "untrusted-ca"):
                    # J2: the handshake fails, no request is ever sent.
                    self.assertEqual(self.stats()["total"], 0)
                else:
                    self.assertGreaterEqual(self.stats()["total"], 1)
                self.assertEqual(self.read_cache(), good)
                # Logins go on with the good keys, without the network.
                self.idp.reset()
                self.assert_valid(self.verify(self.token()))
                self.assertEqual(self.stats()["total"], 0)
        self.idp.config(mode="ok", fault_on="all")

    def test_wrong_host_and_untrusted_ca_messages(self):
        # J2: certificate checks are always on.
        for mode in ("wrong-host", "untrusted-ca"):
            self.idp.config(mode=mode)
            self.age_attempt()  # past the hold-off of a failed fetch
            r = self.verify(self.token())
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            self.assertEqual(self.reason(r), "JWKS_UNAVAILABLE")
            self.assertRegex(r.stdout + r.stderr, r"(?i)ssl|certificate")

    def test_failed_fetch_holds_off_without_keys(self):
        # With nothing cached, a failed fetch holds off the next one for
        # 10 s (a looping caller cannot make root flood the issuer), and
        # the refusal says why the last one failed.
        self.idp.config(mode="500")
        failed = int(time.time())
        r = self.verify(self.token())
        self.assertEqual(self.reason(r), "JWKS_UNAVAILABLE")
        self.idp.reset()
        for _ in range(5):
            self.restamp_attempt(failed)
            r = self.verify(self.token())
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            self.assertIn("the last fetch", r.stdout)
            self.assertIn("500", r.stdout)
        self.assertEqual(self.stats()["total"], 0)
        self.idp.config(mode="ok")
        self.age_attempt(11)
        self.assert_valid(self.verify(self.token()))

    def test_system_store_does_not_trust_test_ca(self):
        self.conf = self.write_conf(providers=(
            "[provider idp]\nissuer = %s\naudience = %s\n" % (self.issuer,
                                                             AUD)))
        r = self.verify(self.token())
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)

    def test_corrupt_cache_replaced(self):
        self.assert_valid(self.verify(self.token()))
        path = self.cache_file()
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)
        self.idp.reset()
        r = self.verify(self.token())
        self.assert_valid(r)
        self.assertIn("ignoring the cached keys", r.stderr)
        self.assertEqual(self.stats()["jwks"], 1)
        with open(path) as f:
            json.load(f)


class RevokeTest(KeysCase):
    kids = ("rs256", "es256")

    def test_revoke_refuses_removed_key(self):
        old = self.token("rs256")
        self.assert_valid(self.verify(old))
        self.idp.config(kids=["es256"])  # rs256 leaked and removed
        self.assert_valid(self.verify(old))  # cached, still fresh
        r = self.run_wifctl("jwks", "revoke", "-c", self.conf, "idp")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("revoked", r.stdout)
        self.assertNotIn("rs256", r.stdout)
        self.assertIn("es256", r.stdout)
        r = self.verify(old)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(self.reason(r), "KEY_NOT_FOUND")
        self.assert_valid(self.verify(self.token("es256")))

    def test_revoke_usage(self):
        r = self.run_wifctl("jwks", "revoke", "-c", self.conf)
        self.assertEqual(r.returncode, 2)
        r = self.run_wifctl("jwks", "revoke", "-c", self.conf, "nope")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no provider", r.stderr)

    def test_revoke_with_idp_down_empties_cache(self):
        self.assert_valid(self.verify(self.token("rs256")))
        self.idp.config(mode="500")
        r = self.run_wifctl("jwks", "revoke", "-c", self.conf, "idp")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(glob.glob(os.path.join(self.cache, "*.json")), [])
        r = self.verify(self.token("rs256"))
        self.assertEqual(r.returncode, 3)


class CliTest(KeysCase):
    def test_show_fetch(self):
        r = self.run_wifctl("jwks", "show", "-c", self.conf)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("no keys cached", r.stderr)
        self.assertEqual(self.stats()["total"], 0)  # show never fetches
        self.idp.config(cache_control="max-age=600")
        r = self.run_wifctl("jwks", "fetch", "-c", self.conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.run_wifctl("jwks", "show", "-c", self.conf, "idp")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("provider idp", r.stdout)
        self.assertIn("source:      %s/jwks" % self.issuer, r.stdout)
        self.assertRegex(r.stdout, r"kid rs256 +RSA +2048 bits +alg RS256")
        # Freshness runs from the fetch, however slow this run is.
        fetched = re.search(r"fetched: +(\S+Z) \(\d+ s ago\)", r.stdout)
        fresh = re.search(r"fresh until: (\S+Z) \(in \d+ s\) \[fresh\]",
                          r.stdout)
        self.assertTrue(fetched and fresh, r.stdout)
        self.assertEqual(iso_seconds(fresh.group(1)) -
                         iso_seconds(fetched.group(1)), 600)
        self.make_stale()
        r = self.run_wifctl("jwks", "show", "-c", self.conf, "idp")
        self.assertIn("[stale", r.stdout)

    def test_usage(self):
        for args, code in ((["jwks"], 2), (["jwks", "frob"], 2),
                           (["jwks", "show", "-x"], 2),
                           (["jwks", "--help"], 0), (["help", "jwks"], 0),
                           (["jwks", "show", "-c", "/nonexistent"], 2),
                           (["jwks", "show", "-c", self.conf, "a", "b"], 2)):
            r = self.run_wifctl(*args)
            self.assertEqual(r.returncode, code, (args, r.stderr))
        r = self.run_wifctl("jwks", "--help")
        for word in ("fetch", "show", "revoke", "~/.cache/pam_wif"):
            self.assertIn(word, r.stdout)

    def test_check_obtains_the_keys(self):
        # wifctl check reports whether each HTTPS provider's keys can be had.
        with open(os.path.join(self.dir, "pam_wif.map"), "w") as f:
            f.write("idp user workload-1 nobody\n")
        os.chmod(os.path.join(self.dir, "pam_wif.map"), 0o644)
        self.conf = self.write_conf(
            extra_global="map_file = %s\n" % os.path.join(self.dir,
                                                          "pam_wif.map"))
        r = self.run_wifctl("check", "-c", self.conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('provider "idp": 1 usable key(s)', r.stdout)
        self.assertGreater(self.stats()["jwks"], 0)
        self.idp.config(mode="500")
        self.idp.reset()
        shutil.rmtree(self.cache, ignore_errors=True)
        r = self.run_wifctl("check", "-c", self.conf)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn('provider "idp": keys cannot be obtained', r.stdout)
        self.assertIn("JWKS_UNAVAILABLE", r.stdout)

    def test_jwks_file_no_network(self):
        self.conf = self.write_conf(providers=(
            "[provider pinned]\nissuer = %s\naudience = %s\njwks_file = %s\n"
            % (self.issuer, AUD, os.path.join(KEYS, "jwks.json"))))
        self.assert_valid(self.verify(self.token()))
        r = self.run_wifctl("jwks", "fetch", "-c", self.conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("jwks_file", r.stdout)
        r = self.run_wifctl("jwks", "revoke", "-c", self.conf, "pinned")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(self.stats()["total"], 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to act as nobody")
    def test_non_root_never_uses_root_cache(self):
        nobody = pwd.getpwnam("nobody")
        home = os.path.join(self.dir, "home")
        os.mkdir(home, 0o755)
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LC_ALL": "C"}
        r = self.run_wifctl("jwks", "fetch", "-c", self.conf, env=env,
                            user=nobody)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        user_cache = os.path.join(home, ".cache", "pam_wif")
        files = glob.glob(os.path.join(user_cache, "*.json"))
        self.assertEqual(len(files), 1)
        self.assertEqual(os.stat(files[0]).st_uid, nobody.pw_uid)
        self.assertFalse(os.path.exists(self.cache))  # root's: untouched
        r = self.run_wifctl("verify", "-c", self.conf, self.token(), env=env,
                            user=nobody)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(os.path.exists(self.cache))
        # The module's decision through `verify --account` too: the user's
        # cache serves it (no fetch) and root's stays untouched.
        mapfile = os.path.join(self.dir, "pam_wif.map")
        with open(mapfile, "w") as f:
            f.write("idp user alice nobody\n")
        os.chmod(mapfile, 0o644)
        self.conf = self.write_conf(extra_global="map_file = %s\n" % mapfile)
        self.idp.reset()
        r = self.run_wifctl("verify", "-c", self.conf, "--account", "nobody",
                            self.token(), env=env, user=nobody)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.stats()["total"], 0)
        self.assertFalse(os.path.exists(self.cache))


def publish(args):
    global WIFCTL, KEYS, IDP, TMP_PARENT
    WIFCTL, KEYS, IDP = args.wifctl, args.keys, args.idp
    TMP_PARENT = args.tmp


def prepare(args, rest):
    os.makedirs(TMP_PARENT, exist_ok=True)


if __name__ == "__main__":
    testmain.main(["--wifctl", "--keys", "--idp", "--tmp"], prepare, publish)
