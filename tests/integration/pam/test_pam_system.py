#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""pam_wif beyond pam_wrapper: the module's exported symbols, wifctl check
and verify --account, and (as root) pamtester through a service installed
in /etc/pam.d.

Tokens are minted with PyJWT from the keys of tests/tools/gen_test_keys.py.
Usage: test_pam_system.py --module SO --wifctl PATH --keys DIR --tmp DIR
       [unittest args]. Exit 77 (skipped) when PamtesterTest is asked for
without root.
"""
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import jwt
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../tools"))
import testmain  # noqa: E402

MODULE = WIFCTL = KEYS = TMP_PARENT = None
ISS_U = "https://issuer.example/users"
ISS_G = "https://issuer.example/groups"
AUD = "api://pam-wif"
EXPORTS = {"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt",
           "pam_sm_open_session", "pam_sm_close_session"}
MAP = ("users  user  alice  nobody\n"
       "groups group g-admins daemon\n")


def mint(iss=ISS_U, sub="alice", **extra):
    now = int(time.time())
    claims = {"iss": iss, "aud": AUD, "sub": sub, "iat": now,
              "exp": now + 600}
    claims.update(extra)
    with open(os.path.join(KEYS, "rs256.key.pem"), "rb") as f:
        return jwt.encode(claims, f.read(), algorithm="RS256",
                          headers={"kid": "rs256"})


class Files:
    """A config, map and key set in a private directory of the build tree
    (trusted-file rules walk every parent, which rules out /tmp)."""

    def __init__(self, map_text=MAP):
        self.dir = tempfile.mkdtemp(dir=TMP_PARENT, prefix="sys-")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "pam_wif.conf")
        self.map = os.path.join(self.dir, "pam_wif.map")
        self.jwks = os.path.join(self.dir, "jwks.json")
        shutil.copy(os.path.join(KEYS, "jwks.json"), self.jwks)
        os.chmod(self.jwks, 0o644)
        self.write_conf()
        self.write(self.map, map_text)

    def write(self, path, text, mode=0o644):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def write_conf(self, extra=""):
        self.write(self.conf,
                   f"[global]\nmap_file = {self.map}\n{extra}"
                   f"[provider users]\nissuer = {ISS_U}\naudience = {AUD}\n"
                   f"jwks_file = {self.jwks}\n"
                   f"[provider groups]\nissuer = {ISS_G}\naudience = {AUD}\n"
                   f"authorization = group\njwks_file = {self.jwks}\n")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def wifctl(*args, stdin=None):
    return subprocess.run([WIFCTL, *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


class SymbolsTest(unittest.TestCase):
    """The version script exports pam_sm_* and nothing else."""

    def test_nm_exports_only_pam_sm(self):
        out = subprocess.run(["nm", "-D", "--defined-only", MODULE],
                             capture_output=True, text=True, check=True)
        names = {line.split()[-1] for line in out.stdout.splitlines()
                 if line.strip()}
        self.assertEqual(names, EXPORTS)

    def test_dlopen(self):
        lib = ctypes.CDLL(MODULE, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        for name in EXPORTS:
            self.assertTrue(hasattr(lib, name), name)
        for name in ("wif_validate", "wif_auth_authenticate", "wif_map_parse",
                     "wif_config_load", "parse_args", "converse"):
            with self.assertRaises(AttributeError, msg=name):
                getattr(lib, name)


class CheckTest(unittest.TestCase):
    """wifctl check: exit 0 clean, 1 warnings only, 2 errors."""

    def setUp(self):
        self.f = Files()

    def tearDown(self):
        self.f.cleanup()

    def check(self, *extra):
        return wifctl("check", "-c", self.f.conf, *extra)

    def test_clean(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 error(s), 0 warning(s)", r.stdout)
        self.assertIn("2 rule(s)", r.stdout)
        self.assertIn('provider "users": 10 usable key(s)', r.stdout)
        r = self.check("--quiet")
        self.assertEqual((r.returncode, r.stdout), (0, ""))

    def test_missing_account_is_a_warning(self):
        self.f.write(self.f.map, MAP + "users user bob wif-no-such-user\n")
        r = self.check()
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"warning: {self.f.map}:3: account \"wif-no-such-user\" "
                      "does not exist on this host", r.stdout)

    def test_unused_provider_is_a_warning(self):
        self.f.write(self.f.map, "users user alice nobody\n")
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn('provider "groups" has no line', r.stdout)

    def test_root_mapping_is_an_error(self):  # G3
        self.f.write(self.f.map, MAP + "users user bob root\n")
        r = self.check()
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"error: {self.f.map}:3: account \"root\" has uid 0",
                      r.stdout)

    def test_syntax_error(self):
        self.f.write(self.f.map, MAP + "azure-prd user x nobody\n")
        r = self.check()
        self.assertEqual(r.returncode, 2)
        self.assertIn(f'{self.f.map}:3: unknown provider "azure-prd"',
                      r.stdout)
        self.f.write(self.f.map, MAP + "users group x nobody\n")
        r = self.check()
        self.assertEqual(r.returncode, 2)
        self.assertIn("type group is not in the authorization of provider \"users\"",
                      r.stdout)
        self.f.write_conf("audiense = x\n")
        r = self.check()
        self.assertEqual(r.returncode, 2)
        self.assertIn("CONFIG_INVALID", r.stdout)

    def test_modes(self):  # I1
        os.chmod(self.f.conf, 0o666)
        r = self.check()
        self.assertEqual(r.returncode, 2)
        self.assertIn("group or others can write it", r.stdout)
        os.chmod(self.f.conf, 0o644)
        os.chmod(self.f.map, 0o646)
        self.assertEqual(self.check().returncode, 2)

    def test_keys(self):
        self.f.write(self.f.jwks, '{"keys":[]}')
        r = self.check()
        self.assertEqual(r.returncode, 2)
        self.assertIn('provider "users": jwks_file', r.stdout)
        os.unlink(self.f.jwks)
        self.assertEqual(self.check().returncode, 2)

    def test_usage(self):
        self.assertEqual(wifctl("check", "--bogus").returncode, 2)
        self.assertEqual(wifctl("check", "extra").returncode, 2)
        r = wifctl("check", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("1  warnings only", r.stdout)
        r = wifctl("check", "-c", os.path.join(self.f.dir, "missing.conf"))
        self.assertEqual(r.returncode, 2)


class VerifyAccountTest(unittest.TestCase):
    """wifctl verify --account explains the mapping decision."""

    def setUp(self):
        self.f = Files()

    def tearDown(self):
        self.f.cleanup()

    def verify(self, account, token, *extra):
        return wifctl("verify", "-c", self.f.conf, "--account", account,
                      *extra, "-", stdin=token + "\n")

    def test_user_rule(self):
        r = self.verify("nobody", mint())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"rule:     {self.f.map}:1: user alice", r.stdout)
        self.assertIn("decision: valid (OK)", r.stdout)

    def test_group_rule(self):
        r = self.verify("daemon", mint(ISS_G, "svc", groups=["g-admins"]))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"{self.f.map}:2: group g-admins", r.stdout)

    def test_no_rule(self):  # G2
        r = self.verify("daemon", mint())
        self.assertEqual(r.returncode, 1)
        self.assertIn("rule:     none", r.stdout)
        self.assertIn("decision: invalid (NO_MAPPING): no rule in", r.stdout)

    def test_root(self):  # G3
        self.f.write(self.f.map, "users user alice root\n")
        r = self.verify("root", mint())
        self.assertEqual(r.returncode, 1)
        self.assertIn("never grants uid 0", r.stdout)

    def test_json(self):
        r = self.verify("nobody", mint(), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["account"], "nobody")
        self.assertEqual(out["rule"], {"file": self.f.map, "line": 1,
                                       "type": "user", "identifier": "alice"})
        r = self.verify("daemon", mint(), "--json")
        out = json.loads(r.stdout)
        self.assertEqual((out["reason"], out["rule"]), ("NO_MAPPING", None))

    def test_invalid_token_and_account(self):
        self.assertEqual(self.verify("nobody", "garbage").returncode, 1)
        r = self.verify("../etc", mint())
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid account name", r.stdout)

    def test_config_error(self):  # exit 2, on stderr, as without --account
        os.chmod(self.f.map, 0o666)
        r = self.verify("nobody", mint())
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertIn("CONFIG_INSECURE", r.stderr)

    def test_standalone_rejects_account(self):
        r = wifctl("verify", "--issuer", ISS_U, "--audience", AUD, "--jwks",
                   self.f.jwks, "--account", "nobody", mint())
        self.assertEqual(r.returncode, 2)


class PamtesterTest(unittest.TestCase):
    """pamtester through /etc/pam.d/<temporary service> (root only)."""

    def setUp(self):
        self.f = Files()
        self.service = f"pam_wif_test_{os.getpid()}"
        self.path = os.path.join("/etc/pam.d", self.service)
        with open(self.path, "w") as out:
            out.write(f"auth [success=done default=die] {MODULE} "
                      f"config={self.f.conf}\n"
                      f"account required {MODULE} config={self.f.conf}\n")

    def tearDown(self):
        os.unlink(self.path)
        self.f.cleanup()

    def pamtester(self, user, answer):
        return subprocess.run(["pamtester", self.service, user,
                               "authenticate", "acct_mgmt"],
                              input=answer, capture_output=True, text=True,
                              timeout=60)

    def test_success(self):
        r = self.pamtester("nobody", mint() + "\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("successfully authenticated", r.stdout + r.stderr)

    def test_parts_as_lines(self):
        tok = mint()
        third = len(tok) // 3
        lines = (tok[:third] + "\\\n" + tok[third:2 * third] + "\\\n"
                 + tok[2 * third:] + "\n")
        r = self.pamtester("nobody", lines)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_denied(self):
        r = self.pamtester("daemon", mint() + "\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Authentication failure", r.stdout + r.stderr)
        r = self.pamtester("nobody", "garbage\n")
        self.assertNotEqual(r.returncode, 0)

    def test_insecure_config(self):
        os.chmod(self.f.conf, 0o666)
        r = self.pamtester("nobody", mint() + "\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Error in service module", r.stdout + r.stderr)


def publish(args):
    global MODULE, WIFCTL, KEYS, TMP_PARENT
    MODULE, WIFCTL, KEYS = args.module, args.wifctl, args.keys
    TMP_PARENT = args.tmp


def prepare(args, rest):
    if "PamtesterTest" in rest and os.geteuid() != 0:
        raise testmain.Skip("PamtesterTest needs root")
    if "PamtesterTest" in rest and shutil.which("pamtester") is None:
        raise testmain.Broken("pamtester is not installed")


if __name__ == "__main__":
    testmain.main(["--module", "--wifctl", "--keys", "--tmp"], prepare,
                  publish)
