#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of wifctl verify/decode against independently minted tokens.

Tokens are signed here with PyJWT's algorithm implementations and
pyca/cryptography (not with the project's own code), from the private keys
that tests/tools/gen_test_keys.py wrote (<kid>.key.pem; jwks.json holds the
public keys). Case ids (A4, B3, ...) refer to shared/SECURITY-CASES.md.

Usage: test_wifctl.py --wifctl PATH --keys DIR --tmp DIR [unittest args]
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import get_default_algorithms
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../tools"))
import testmain  # noqa: E402

WIFCTL = None
KEYS = None
TMP_PARENT = None

ISS = "https://issuer.example.test"
AUD = "wif-test-audience"
TOKEN_MAX = 16384
KIDS = {"rs256": "RS256", "rs384": "RS384", "rs512": "RS512",
        "ps256": "PS256", "ps384": "PS384", "ps512": "PS512",
        "es256": "ES256", "es384": "ES384", "es512": "ES512",
        "eddsa": "EdDSA"}
ALL_ALGS = ",".join(KIDS.values())
PYJWT_ALGS = get_default_algorithms()
DECISION = re.compile(r"^decision: (\w+) \((\w+)\)", re.M)
UNVERIFIED = ("UNVERIFIED: the signature and claims of this token have NOT "
              "been checked")


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def key_pem(kid):
    with open(os.path.join(KEYS, kid + ".key.pem"), "rb") as f:
        return f.read()


def sign(alg, kid, signing_input):
    impl = PYJWT_ALGS[alg]
    return impl.sign(signing_input.encode(), impl.prepare_key(key_pem(kid)))


def claims(**over):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": "alice", "iat": now,
         "exp": now + 600, "groups": ["dbread", "dbwrite"]}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(claims_obj=None, alg="RS256", kid="rs256", header=None,
         key_kid=None):
    """A compact JWS. header/claims may be dicts or raw JSON text."""
    if claims_obj is None:
        claims_obj = claims()
    if header is None:
        header = {"alg": alg, "kid": kid, "typ": "JWT"}
    h = header if isinstance(header, str) else dumps(header)
    p = claims_obj if isinstance(claims_obj, str) else dumps(claims_obj)
    signing_input = b64(h) + "." + b64(p)
    sig = sign(alg, key_kid or kid, signing_input)
    return signing_input + "." + b64(sig)


def run(args, stdin=None, timeout=60):
    if isinstance(stdin, str):
        stdin = stdin.encode()
    r = subprocess.run([WIFCTL] + args, input=stdin, capture_output=True,
                       timeout=timeout)
    # Every byte wifctl prints is ASCII: untrusted text is escaped.
    r.out = r.stdout.decode("ascii")
    r.err = r.stderr.decode("ascii")
    return r


def sa_args(*extra, algorithms=ALL_ALGS, jwks=None):
    """Stand-alone verify options."""
    args = ["verify", "--issuer", ISS, "--audience", AUD,
            "--jwks", jwks or os.path.join(KEYS, "jwks.json")]
    if algorithms:
        args += ["--algorithms", algorithms]
    return args + list(extra)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wifctl-", dir=TMP_PARENT)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, data, mode=0o600):
        path = os.path.join(self.tmp, name)
        if isinstance(data, str):
            data = data.encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def verify(self, token, *extra, **kw):
        return run(sa_args(*extra, **kw) + [token])

    def decision(self, r):
        m = DECISION.findall(r.out)
        self.assertEqual(len(m), 1, "exactly one decision line:\n" + r.out)
        return m[0]

    def assertValid(self, r):
        self.assertEqual(self.decision(r), ("valid", "OK"),
                         r.out + r.err)
        self.assertEqual(r.returncode, 0, r.out + r.err)

    def assertReason(self, r, reason, code=1, word="invalid"):
        self.assertEqual(self.decision(r), (word, reason), r.out + r.err)
        self.assertEqual(r.returncode, code, r.out + r.err)

    def assertUsage(self, r, *needles):
        self.assertEqual(r.returncode, 2, r.out + r.err)
        self.assertEqual(r.out, "", "usage errors print nothing on stdout")
        self.assertTrue(r.err.startswith("wifctl: "), r.err)
        for n in needles:
            self.assertIn(n, r.err)


class UsageTest(Base):
    def test_help(self):
        for args in (["--help"], ["-h"], ["help"]):
            r = run(args)
            self.assertEqual(r.returncode, 0)
            self.assertIn("Usage: wifctl", r.out)
            self.assertIn("Exit status", r.out)
            self.assertEqual(r.err, "")

    def test_command_help(self):
        for args in (["verify", "--help"], ["help", "verify"],
                     ["verify", "-h"]):
            r = run(args)
            self.assertEqual(r.returncode, 0)
            self.assertIn("wifctl verify", r.out)
            self.assertIn("--issuer", r.out)
        for args in (["decode", "--help"], ["help", "decode"]):
            r = run(args)
            self.assertEqual(r.returncode, 0)
            self.assertIn("wifctl decode", r.out)

    def test_version(self):
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.out, r"^wifctl \(pam_wif\) \d+\.\d+\.\d+\n$")

    def test_no_command(self):
        self.assertUsage(run([]), "no command")

    def test_unknown_command(self):
        self.assertUsage(run(["frobnicate"]), "unknown command", "Usage")
        self.assertUsage(run(["help", "frobnicate"]), "unknown command")

    def test_unknown_options(self):
        self.assertUsage(run(["--frob"]), "unknown option")
        self.assertUsage(run(["verify", "--frob", "x"]), "unknown option",
                         "Usage")
        self.assertUsage(run(["verify", "-x", "x"]), "unknown option")
        self.assertUsage(run(["decode", "--frob", "x"]), "unknown option")
        # --account applies the mapping (tests/integration/pam): without a
        # usable configuration it is a configuration error.
        self.assertUsage(run(["verify", "-c", "/nonexistent/pam_wif.conf",
                              "--account", "root", "x"]),
                         "/nonexistent/pam_wif.conf")

    def test_missing_argument(self):
        self.assertUsage(run(["verify", "--issuer"]), "needs an argument")
        self.assertUsage(run(["verify", "-c"]), "needs an argument")

    def test_missing_issuer(self):
        r = run(["verify", "--audience", AUD, "--jwks",
                 os.path.join(KEYS, "jwks.json"), mint()])
        self.assertUsage(r, "--issuer")

    def test_missing_audience(self):
        r = run(["verify", "--issuer", ISS, "--jwks",
                 os.path.join(KEYS, "jwks.json"), mint()])
        self.assertUsage(r, "--audience")

    def test_missing_jwks(self):
        r = run(["verify", "--issuer", ISS, "--audience", AUD, mint()])
        self.assertUsage(r, "--jwks")

    def test_config_and_standalone_conflict(self):
        r = run(["verify", "-c", "/nonexistent.conf"] + sa_args()[1:] +
                [mint()])
        self.assertUsage(r, "-c cannot be combined")

    def test_two_tokens(self):
        self.assertUsage(run(sa_args(mint(), mint())), "more than one")

    def test_token_and_token_file(self):
        path = self.write("tok", mint())
        self.assertUsage(run(sa_args("--token-file", path, mint())),
                         "not both")

    def test_bad_option_values(self):
        # Values go through the config parser: same checks as a file.
        self.assertUsage(run(sa_args("--clock-skew", "abc", mint())),
                         "--clock-skew")
        self.assertUsage(run(sa_args("--clock-skew", "99999999", mint())),
                         "--clock-skew")
        self.assertUsage(run(sa_args("--max-token-age", "-5", mint())),
                         "--max-token-age")
        # B1/B3: none and HS* cannot even be named.
        for alg in ("none", "HS256", "rs256"):
            self.assertUsage(run(sa_args(mint(), algorithms=alg)),
                             "--algorithms")
        r = run(["verify", "--issuer", "http://plain.example.test",
                 "--audience", AUD, "--jwks",
                 os.path.join(KEYS, "jwks.json"), mint()])
        self.assertUsage(r)

    def test_missing_token_file(self):
        r = run(sa_args("--token-file", os.path.join(self.tmp, "nope")))
        self.assertUsage(r, "token file")

    def test_token_file_not_regular(self):
        self.assertUsage(run(sa_args("--token-file", self.tmp)))

    def test_jwks_missing(self):
        # Decision: a --jwks FILE that cannot be read or used is an error in
        # the command line, so exit 2 (documented in wifctl verify --help).
        r = run(sa_args(mint(), jwks=os.path.join(self.tmp, "nope.json")))
        self.assertUsage(r, "--jwks")

    def test_jwks_garbage(self):
        for text in ("not json", "{}", '{"keys": []}', '{"keys": 5}', ""):
            path = self.write("garbage.json", text)
            self.assertUsage(run(sa_args(mint(), jwks=path)), "--jwks")

    def test_jwks_only_weak_key(self):
        # D1: the 1024-bit key is refused; with nothing else the set is
        # unusable.
        with open(os.path.join(KEYS, "rsa1024.jwk.json")) as f:
            jwk = json.load(f)
        path = self.write("weak.json", dumps({"keys": [jwk]}))
        self.assertUsage(run(sa_args(mint(), jwks=path)), "--jwks")


class AlgorithmsTest(Base):
    def test_all_ten_algorithms(self):
        for kid, alg in KIDS.items():
            with self.subTest(alg=alg):
                tok = mint(claims(sub="sub-" + kid), alg=alg, kid=kid)
                r = self.verify(tok)
                self.assertValid(r)
                self.assertIn("subject:  sub-" + kid + "\n", r.out)
                self.assertIn("provider: cli\n", r.out)
                self.assertIn("alg:      %s\n" % alg, r.out)
                self.assertIn("kid:      %s\n" % kid, r.out)

    def test_each_algorithm_alone(self):
        for kid, alg in KIDS.items():
            with self.subTest(alg=alg):
                r = self.verify(mint(alg=alg, kid=kid), algorithms=alg)
                self.assertValid(r)

    def test_without_alg_hints_and_without_kid(self):
        # B13: no kid; every key allowing the alg is tried.
        jwks = os.path.join(KEYS, "jwks-noalg.json")
        for kid, alg in (("es256", "ES256"), ("eddsa", "EdDSA")):
            with self.subTest(alg=alg):
                tok = mint(alg=alg, kid=kid, header={"alg": alg},
                           key_kid=kid)
                self.assertValid(self.verify(tok, jwks=jwks))

    def test_default_is_rs256_only(self):
        self.assertValid(self.verify(mint(), algorithms=None))
        r = self.verify(mint(alg="ES256", kid="es256"), algorithms=None)
        self.assertReason(r, "ALG_NOT_ALLOWED")

    def test_algorithm_not_in_list(self):
        r = self.verify(mint(alg="PS256", kid="ps256"), algorithms="RS256")
        self.assertReason(r, "ALG_NOT_ALLOWED")

    def test_key_used_with_other_alg(self):
        # B4: the rs256 key (alg hint RS256) with an RS512 signature.
        tok = mint(alg="RS512", kid="rs256")
        r = self.verify(tok)
        self.assertEqual(r.returncode, 1, r.out)
        self.assertIn(self.decision(r)[1], ("ALG_NOT_ALLOWED",
                                            "KEY_NOT_FOUND"))


class ReasonsTest(Base):
    def test_expired(self):
        now = int(time.time())
        r = self.verify(mint(claims(iat=now - 7200, exp=now - 3600)))
        self.assertReason(r, "EXPIRED")

    def test_expired_within_clock_skew(self):
        now = int(time.time())
        tok = mint(claims(iat=now - 600, exp=now - 20))
        self.assertValid(self.verify(tok))
        self.assertReason(self.verify(tok, "--clock-skew", "0"), "EXPIRED")

    def test_not_yet_valid(self):
        now = int(time.time())
        r = self.verify(mint(claims(nbf=now + 3600, exp=now + 7200)))
        self.assertReason(r, "NOT_YET_VALID")

    def test_iat_in_future(self):
        now = int(time.time())
        r = self.verify(mint(claims(iat=now + 3600, exp=now + 7200)))
        self.assertReason(r, "IAT_INVALID")

    def test_max_token_age(self):
        now = int(time.time())
        tok = mint(claims(iat=now, exp=now + 3600))
        self.assertValid(self.verify(tok, "--max-token-age", "3600"))
        self.assertReason(self.verify(tok, "--max-token-age", "600"),
                          "LIFETIME")

    def test_wrong_audience(self):
        self.assertReason(self.verify(mint(claims(aud="someone-else"))),
                          "AUD_MISMATCH")

    def test_audience_array_and_repeated_option(self):
        tok = mint(claims(aud=["other", "second-aud"]))
        self.assertReason(self.verify(tok), "AUD_MISMATCH")
        self.assertValid(self.verify(tok, "--audience", "second-aud"))

    def test_wrong_issuer(self):
        tok = mint(claims(iss="https://evil.example.test"))
        self.assertReason(self.verify(tok), "ISS_MISMATCH")
        # Exact match only: a prefix or suffix of the issuer is another one.
        self.assertReason(self.verify(mint(claims(iss=ISS + "/"))),
                          "ISS_MISMATCH")

    def test_missing_exp(self):
        self.assertReason(self.verify(mint(claims(exp=None))),
                          "CLAIM_MISSING")

    def test_claim_types(self):
        self.assertReason(self.verify(mint(claims(exp="tomorrow"))),
                          "CLAIM_TYPE")
        self.assertReason(self.verify(mint(claims(groups="dbread"))),
                          "CLAIM_TYPE")

    def test_subject_invalid(self):
        self.assertReason(self.verify(mint(claims(sub=""))), "SUB_INVALID")
        tok = mint(claims(sub="x" * 300))
        self.assertReason(self.verify(tok), "SUB_INVALID")

    def test_user_and_groups_claim_options(self):
        tok = mint(claims(oid="object-1", roles=["r1"]))
        r = self.verify(tok, "--user-claim", "oid", "--groups-claim",
                        "roles")
        self.assertValid(r)
        self.assertIn("subject:  object-1\n", r.out)
        self.assertIn("groups:   1\n  - r1\n", r.out)
        nested = mint(claims(ext={"id": "nested-7"}))
        r = self.verify(nested, "--user-claim", "/ext/id")
        self.assertValid(r)
        self.assertIn("subject:  nested-7\n", r.out)

    def test_bad_signature(self):
        # C10: a payload that differs from the signed one.
        good = mint()
        h, _, s = good.split(".")
        forged = h + "." + b64(dumps(claims(sub="mallory"))) + "." + s
        self.assertReason(self.verify(forged), "BAD_SIGNATURE")
        # Signed by another key under the rs256 kid.
        self.assertReason(self.verify(mint(key_kid="rs384")),
                          "BAD_SIGNATURE")
        # A7: an empty signature.
        self.assertReason(self.verify(h + "." + good.split(".")[1] + "."),
                          "BAD_SIGNATURE")

    def test_bad_signature_every_alg(self):
        # C10: a changed payload under a good signature, for every alg.
        forged = b64(dumps(claims(sub="mallory")))
        for kid, alg in KIDS.items():
            with self.subTest(alg=alg):
                h, _, s = mint(alg=alg, kid=kid).split(".")
                self.assertReason(self.verify(h + "." + forged + "." + s),
                                  "BAD_SIGNATURE")

    def test_bad_signature_before_expiry(self):
        # C11: an expired token with a bad signature reports the signature.
        now = int(time.time())
        tok = mint(claims(iat=now - 7200, exp=now - 3600), key_kid="rs384")
        self.assertReason(self.verify(tok), "BAD_SIGNATURE")

    def test_alg_none(self):
        # B1: with and without a signature, with and without a kid.
        p = b64(dumps(claims()))
        for header in ({"alg": "none"}, {"alg": "none", "kid": "rs256"}):
            for sig in ("", b64(b"\x00" * 32)):
                tok = b64(dumps(header)) + "." + p + "." + sig
                with self.subTest(header=header, sig=sig):
                    self.assertReason(self.verify(tok), "ALG_NOT_ALLOWED")

    def test_alg_case_variants(self):
        # B2: alg names are case-sensitive.
        p = b64(dumps(claims()))
        for alg in ("NONE", "None", "rs256", "Rs256"):
            h = b64(dumps({"alg": alg, "kid": "rs256"}))
            tok = h + "." + p + "." + b64(b"\x01" * 256)
            with self.subTest(alg=alg):
                self.assertReason(self.verify(tok), "ALG_NOT_ALLOWED")

    def test_hs256_with_public_key_as_secret(self):
        # B3: the RSA public key (PEM, DER, JWK text) as an HMAC secret.
        pub = serialization.load_pem_private_key(
            key_pem("rs256"), None).public_key()
        with open(os.path.join(KEYS, "rs256.jwk.json"), "rb") as f:
            jwk_text = f.read()
        secrets = [
            pub.public_bytes(serialization.Encoding.PEM,
                             serialization.PublicFormat.SubjectPublicKeyInfo),
            pub.public_bytes(serialization.Encoding.DER,
                             serialization.PublicFormat.SubjectPublicKeyInfo),
            jwk_text, b""]
        for hs, digest in (("HS256", hashlib.sha256),
                           ("HS384", hashlib.sha384),
                           ("HS512", hashlib.sha512)):
            for secret in secrets:
                si = b64(dumps({"alg": hs, "kid": "rs256", "typ": "JWT"})) + \
                    "." + b64(dumps(claims()))
                mac = hmac.new(secret, si.encode(), digest).digest()
                with self.subTest(alg=hs, secret=len(secret)):
                    self.assertReason(self.verify(si + "." + b64(mac)),
                                      "ALG_NOT_ALLOWED")

    def test_unknown_kid(self):
        tok = mint(header={"alg": "RS256", "kid": "no-such-key"})
        self.assertReason(self.verify(tok), "KEY_NOT_FOUND")
        # B12: a kid is never a path.
        tok = mint(header={"alg": "RS256", "kid": "../../../../dev/null"})
        self.assertReason(self.verify(tok), "KEY_NOT_FOUND")
        # D1: the refused 1024-bit key is not in the set.
        tok = mint(header={"alg": "RS256", "kid": "rsa1024"},
                   key_kid="rsa1024")
        self.assertReason(self.verify(tok), "KEY_NOT_FOUND")

    def test_embedded_jwk_ignored(self):
        # B7: a header jwk carrying the attacker's own key is never used.
        attacker = rsa.generate_private_key(public_exponent=65537,
                                            key_size=2048)
        nums = attacker.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": b64(nums.n.to_bytes(256, "big")),
               "e": b64(nums.e.to_bytes(3, "big"))}
        pem = attacker.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        impl = PYJWT_ALGS["RS256"]
        for kid, reason in (("rs256", "BAD_SIGNATURE"),
                            ("attacker", "KEY_NOT_FOUND")):
            h = b64(dumps({"alg": "RS256", "kid": kid, "jwk": jwk,
                           "jku": "http://169.254.169.254/keys"}))
            si = h + "." + b64(dumps(claims()))
            sig = impl.sign(si.encode(), impl.prepare_key(pem))
            with self.subTest(kid=kid):
                self.assertReason(self.verify(si + "." + b64(sig)), reason)

    def test_header_policy(self):
        base = {"alg": "RS256", "kid": "rs256"}
        cases = [
            (dict(base, crit=["foo"], foo=1), "UNSUPPORTED_CRIT"),   # B10
            (dict(base, b64=False, crit=["b64"]), "UNSUPPORTED_CRIT"),  # B11
            (dict(base, zip="DEF"), "UNSUPPORTED"),                  # B16
            (dict(base, cty="JWT"), "UNSUPPORTED"),                  # B15
            (dict(base, typ="dpop+jwt"), "TYP_MISMATCH"),            # B14
        ]
        for header, reason in cases:
            with self.subTest(header=header):
                self.assertReason(self.verify(mint(header=header)), reason)
        # B14: JWT in any case, with or without application/.
        for typ in ("JWT", "jwt", "application/jwt", "at+jwt"):
            with self.subTest(typ=typ):
                self.assertValid(self.verify(mint(header=dict(base,
                                                              typ=typ))))

    def test_malformed(self):
        good = mint()
        h, p, s = good.split(".")
        cases = [
            "abc",                       # A2: no dots
            h + "." + p,                 # A2: one dot
            good + ".",                  # A2: extra empty component
            good + "." + s,              # A2: four dots
            h + "." + p + "." + s + "=",  # A5: padding
            h + "." + p + "+" + "." + s,  # A4: outside the alphabet
            b64("[1]") + "." + p + "." + s,  # A12: header not an object
            h + "." + b64("[]") + "." + s,   # A13: claims not an object
            h + "." + b64(dumps(claims()) + " x") + "." + s,  # A14
            b64('{"alg":"RS256","alg":"none"}') + "." + p + "." + s,  # B17
            b64('{"kid":"rs256"}') + "." + p + "." + s,  # B5: no alg
            b64('{"alg":123}') + "." + p + "." + s,      # B5
            '{"payload":"%s","signatures":[]}' % p,      # A6
        ]
        for tok in cases:
            with self.subTest(token=tok[:40]):
                self.assertReason(self.verify(tok), "MALFORMED")

    def test_empty_token(self):
        # A1: an empty token is invalid, not a usage error.
        self.assertReason(self.verify(""), "MALFORMED")
        r = run(sa_args("-"), stdin=b"")
        self.assertReason(r, "MALFORMED")
        r = run(sa_args("-"), stdin=b"\n")
        self.assertReason(r, "MALFORMED")
        r = run(sa_args("-"), stdin=b"   \n")
        self.assertReason(r, "MALFORMED")

    def test_too_large(self):
        # A3: one byte over 16 KiB, as an argument, on stdin, in a file.
        tok = "a" * (TOKEN_MAX + 1)
        self.assertReason(self.verify(tok), "TOO_LARGE")
        self.assertReason(run(sa_args("-"), stdin=tok + "\n"), "TOO_LARGE")
        path = self.write("big.tok", tok)
        self.assertReason(run(sa_args("--token-file", path)), "TOO_LARGE")
        # A3: megabytes of dots are cut off without being read.
        r = run(sa_args("-"), stdin="." * (4 << 20))
        self.assertReason(r, "TOO_LARGE")
        path = self.write("huge.tok", "." * (4 << 20))
        self.assertReason(run(sa_args("--token-file", path)), "TOO_LARGE")


def token_of_length(length):
    """A valid RS256 token (2048-bit key) of exactly `length` bytes."""
    sig_len = len(b64(b"\0" * 256))
    for pad in range(4):
        header = {"alg": "RS256", "kid": "rs256", "x": "y" * pad}
        h = b64(dumps(header))
        base = claims(pad="")
        fixed = len(h) + 2 + sig_len + len(b64(dumps(base)))
        need = length - fixed
        for n in range(max(0, need * 3 // 4 - 4), need * 3 // 4 + 4):
            c = claims(pad="p" * n)
            c["iat"], c["exp"] = base["iat"], base["exp"]
            if len(h) + 2 + sig_len + len(b64(dumps(c))) == length:
                tok = mint(c, header=header)
                assert len(tok) == length
                return tok
    raise AssertionError("no token of length %d" % length)


class TokenInputTest(Base):
    def test_stdin(self):
        tok = mint()
        self.assertValid(run(sa_args("-"), stdin=tok))
        # Without a token argument, stdin is read too.
        self.assertValid(run(sa_args(), stdin=tok + "\n"))

    def test_stdin_one_trailing_newline(self):
        # A10: exactly one "\n" or "\r\n" is framing; nothing else is.
        tok = mint()
        self.assertValid(run(sa_args("-"), stdin=tok + "\n"))
        self.assertValid(run(sa_args("-"), stdin=tok + "\r\n"))
        for bad in (tok + "\n\n", tok + "\r", tok + " \n", tok + "\t",
                    " " + tok, "\n" + tok, tok + "\n\r\n"):
            with self.subTest(input=repr(bad[-4:])):
                self.assertReason(run(sa_args("-"), stdin=bad), "MALFORMED")

    def test_interior_whitespace(self):
        # A4/A10: whitespace inside the token is never removed.
        tok = mint()
        h, p, s = tok.split(".")
        for bad in (h + ". " + p + "." + s, h + "." + p + "\n." + s,
                    h + "." + p[:10] + "\r\n" + p[10:] + "." + s,
                    h + "." + p + "." + s[:5] + " " + s[5:]):
            with self.subTest(token=repr(bad[:60])):
                self.assertReason(run(sa_args("-"), stdin=bad + "\n"),
                                  "MALFORMED")
                self.assertReason(self.verify(bad), "MALFORMED")

    def test_argument_is_not_stripped(self):
        self.assertReason(self.verify(mint() + "\n"), "MALFORMED")

    def test_token_file(self):
        tok = mint()
        for name, data in (("a", tok), ("b", tok + "\n"),
                           ("c", tok + "\r\n")):
            path = self.write(name, data)
            self.assertValid(run(sa_args("--token-file", path)))
        path = self.write("d", tok + "\n\n")
        self.assertReason(run(sa_args("--token-file", path)), "MALFORMED")
        path = self.write("e", tok + "\0")
        self.assertReason(run(sa_args("--token-file", path)), "MALFORMED")

    def test_largest_token_passes(self):
        # 16 KiB is a limit that must still pass, with its framing too.
        tok = token_of_length(TOKEN_MAX)
        self.assertValid(self.verify(tok))
        self.assertValid(run(sa_args("-"), stdin=tok + "\r\n"))
        path = self.write("max.tok", tok + "\n")
        self.assertValid(run(sa_args("--token-file", path)))
        # One byte more, well formed and well signed, is too large.
        over = token_of_length(TOKEN_MAX + 1)
        self.assertReason(run(sa_args("-"), stdin=over + "\n"), "TOO_LARGE")


class OutputTest(Base):
    FIELDS = {"valid", "reason", "message", "provider", "issuer", "subject",
              "groups", "exp", "kid", "alg"}

    def test_human_valid(self):
        c = claims()
        tok = mint(c, alg="ES384", kid="es384")
        before = int(time.time())
        r = self.verify(tok)
        after = int(time.time())
        self.assertValid(r)
        lines = r.out.splitlines()
        self.assertEqual(lines[0], "provider: cli")
        self.assertIn("issuer:   " + ISS, lines)
        self.assertIn("subject:  alice", lines)
        self.assertIn("groups:   2", lines)
        self.assertIn("  - dbread", lines)
        self.assertIn("  - dbwrite", lines)
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c["exp"]))
        m = re.search(r"^expires:  (\S+) \(in (\d+) s\)$", r.out, re.M)
        self.assertIsNotNone(m, r.out)
        self.assertEqual(m.group(1), exp)
        # Seconds left when wifctl looked, whenever that was in this run.
        self.assertTrue(c["exp"] - after <= int(m.group(2)) <=
                        c["exp"] - before, (m.group(2), before, after))
        self.assertIn("kid:      es384", lines)
        self.assertIn("alg:      ES384", lines)
        self.assertEqual(lines[-1], "decision: valid (OK)")
        self.assertEqual(r.err, "")

    def test_human_no_groups(self):
        r = self.verify(mint(claims(groups=None)))
        self.assertValid(r)
        self.assertIn("groups:   0\n", r.out)

    def test_human_invalid(self):
        r = self.verify(mint(claims(aud="other")))
        self.assertReason(r, "AUD_MISMATCH")
        last = r.out.splitlines()[-1]
        self.assertRegex(last, r"^decision: invalid \(AUD_MISMATCH\): \S")
        # Claims of a token that failed are not presented as facts.
        self.assertNotIn("subject:", r.out)
        self.assertNotIn("expires:", r.out)

    def test_untrusted_text_is_escaped(self):
        # Terminal escapes and fake lines in claims stay inert. Groups are
        # opaque bytes (E15), so they can carry any of it.
        evil = "x\x1b[31m\ndecision: valid (OK)"
        groups = ["g\r\n" + evil, "caf\u00e9", "\x1b]0;pwn\x07",
                  "\u009b2J"]
        tok = mint(claims(sub="s\u202e", groups=groups))
        r = self.verify(tok)
        self.assertValid(r)
        for raw in ("\x1b", "\x07", "\r", "\x9b"):
            self.assertNotIn(raw, r.out)
        self.assertIn("subject:  s\\xe2\\x80\\xae\n", r.out)
        self.assertIn("  - caf\\xc3\\xa9\n", r.out)
        self.assertIn("  - \\x1b]0;pwn\\x07\n", r.out)
        self.assertEqual(r.out.count("\n"), 12, r.out)
        # JSON keeps the exact values, escaped.
        r = run(sa_args("--json", tok))
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("\x1b", r.out)
        out = json.loads(r.out)
        self.assertEqual(out["subject"], "s\u202e")
        self.assertEqual(out["groups"], groups)

    def test_control_characters_in_subject(self):
        # The user claim never carries controls (claims.c), C0 or C1.
        for sub in ("s\x1b[31m", "a\nb", "\u009b"):
            with self.subTest(sub=repr(sub)):
                r = self.verify(mint(claims(sub=sub)))
                self.assertReason(r, "SUB_INVALID")
                self.assertNotIn("\x1b", r.out)

    def test_json_valid(self):
        c = claims(groups=["a", "b", "c"])
        r = run(sa_args("--json", mint(c, alg="PS256", kid="ps256")))
        self.assertEqual(r.returncode, 0, r.out + r.err)
        self.assertEqual(r.out.count("\n"), 1, "one JSON object, one line")
        out = json.loads(r.out)
        self.assertEqual(set(out), self.FIELDS)
        self.assertIs(out["valid"], True)
        self.assertEqual(out["reason"], "OK")
        self.assertIsInstance(out["message"], str)
        self.assertEqual(out["provider"], "cli")
        self.assertEqual(out["issuer"], ISS)
        self.assertEqual(out["subject"], "alice")
        self.assertEqual(out["groups"], ["a", "b", "c"])
        self.assertEqual(out["exp"], c["exp"])
        self.assertEqual(out["kid"], "ps256")
        self.assertEqual(out["alg"], "PS256")

    def test_json_invalid(self):
        now = int(time.time())
        tok = mint(claims(iat=now - 7200, exp=now - 3600), alg="ES256",
                   kid="es256")
        r = run(sa_args("--json", tok))
        self.assertEqual(r.returncode, 1)
        out = json.loads(r.out)
        self.assertEqual(set(out), self.FIELDS)
        self.assertIs(out["valid"], False)
        self.assertEqual(out["reason"], "EXPIRED")
        self.assertTrue(out["message"])
        self.assertEqual(out["provider"], "cli")
        self.assertEqual(out["kid"], "es256")
        self.assertEqual(out["alg"], "ES256")
        for k in ("issuer", "subject", "groups", "exp"):
            self.assertIsNone(out[k], k)

    def test_json_malformed_and_too_large(self):
        for tok, reason in (("x.y", "MALFORMED"),
                            ("a" * (TOKEN_MAX + 1), "TOO_LARGE")):
            r = run(sa_args("--json", "-"), stdin=tok)
            self.assertEqual(r.returncode, 1)
            out = json.loads(r.out)
            self.assertIs(out["valid"], False)
            self.assertEqual(out["reason"], reason)
            self.assertIsNone(out["provider"])
            self.assertIsNone(out["kid"])

    def test_token_not_echoed(self):
        tok = mint()
        sig = tok.split(".")[2]
        for args in (sa_args(tok), sa_args("--json", tok),
                     sa_args("--debug", tok),
                     sa_args(mint(claims(aud="x")))):
            r = run(args)
            self.assertNotIn(sig, r.out + r.err)
            self.assertNotIn(tok.split(".")[1], r.out + r.err)


class ConfigTest(Base):
    def config(self, provider_extra="", mode=0o600, jwks_mode=0o600,
               name="wif.conf", jwks=None):
        if jwks is None:
            with open(os.path.join(KEYS, "jwks.json"), "rb") as f:
                jwks = f.read()
        jwks_path = self.write("keys.jwks", jwks, jwks_mode)
        text = ("# written by test_wifctl.py\n"
                "[global]\n"
                "clock_skew = 30\n"
                "\n"
                "[provider other]\n"
                "issuer = https://other.example.test\n"
                "audience = x\n"
                "jwks_file = %s\n"
                "\n"
                "[provider test-prov]\n"
                "issuer = %s\n"
                "audience = unused, %s\n"
                "algorithms = RS256 ES256 EdDSA\n"
                "jwks_file = %s\n%s" % (jwks_path, ISS, AUD, jwks_path,
                                        provider_extra))
        return self.write(name, text, mode)

    def test_valid(self):
        conf = self.config()
        for kid, alg in (("rs256", "RS256"), ("es256", "ES256"),
                         ("eddsa", "EdDSA")):
            r = run(["verify", "-c", conf, mint(alg=alg, kid=kid)])
            self.assertValid(r)
            self.assertIn("provider: test-prov\n", r.out)
        r = run(["verify", "--config", conf, "--json", mint()])
        self.assertEqual(json.loads(r.out)["provider"], "test-prov")
        # The provider is chosen by iss.
        r = run(["verify", "-c", conf,
                 mint(claims(iss="https://other.example.test", aud="x"))])
        self.assertValid(r)
        self.assertIn("provider: other\n", r.out)

    def test_config_limits_apply(self):
        conf = self.config()
        r = run(["verify", "-c", conf, mint(alg="PS256", kid="ps256")])
        self.assertReason(r, "ALG_NOT_ALLOWED")
        now = int(time.time())
        r = run(["verify", "-c", conf, mint(claims(exp=now - 45))])
        self.assertReason(r, "EXPIRED")  # clock_skew 30 from the file
        r = run(["verify", "-c", conf, mint(claims(iss="https://x.test"))])
        self.assertReason(r, "ISS_MISMATCH")

    def test_require(self):
        conf = self.config("require = tid = tenant-*\n")
        self.assertValid(run(["verify", "-c", conf,
                              mint(claims(tid="tenant-1"))]))
        r = run(["verify", "-c", conf, mint(claims(tid="evil-1"))])
        self.assertReason(r, "CLAIM_MISMATCH")

    def test_group_writable_config(self):
        conf = self.config(mode=0o620)
        r = run(["verify", "-c", conf, mint()])
        self.assertUsage(r, conf)

    def test_world_writable_directory(self):
        sub = os.path.join(self.tmp, "open")
        os.mkdir(sub)
        os.chmod(sub, 0o777)
        conf = self.config(name="open/wif.conf")
        r = run(["verify", "-c", conf, mint()])
        self.assertUsage(r)

    def test_symlinked_config(self):
        conf = self.config()
        link = os.path.join(self.tmp, "link.conf")
        os.symlink(conf, link)
        self.assertUsage(run(["verify", "-c", link, mint()]))

    def test_missing_config(self):
        path = os.path.join(self.tmp, "missing.conf")
        self.assertUsage(run(["verify", "-c", path, mint()]), path)

    def test_invalid_config(self):
        conf = self.config("audiense = typo\n")
        r = run(["verify", "-c", conf, mint()])
        self.assertUsage(r, "audiense")
        self.assertIn("wif.conf:", r.err)

    def test_jwks_file_insecure(self):
        # The validator reads jwks_file under the same rules as the config.
        conf = self.config(jwks_mode=0o666)
        r = run(["verify", "-c", conf, mint()])
        self.assertEqual(r.returncode, 2, r.out + r.err)
        self.assertEqual(self.decision(r)[1], "CONFIG_INSECURE")

    def test_jwks_file_unusable(self):
        # Decision: with -c, a pinned jwks_file that is garbage or missing
        # means the issuer's keys are unavailable: exit 3.
        conf = self.config(jwks=b"garbage")
        r = run(["verify", "-c", conf, mint()])
        self.assertReason(r, "JWKS_INVALID", code=3, word="unavailable")
        conf = self.config()
        os.unlink(os.path.join(self.tmp, "keys.jwks"))
        r = run(["verify", "-c", conf, mint()])
        self.assertReason(r, "JWKS_UNAVAILABLE", code=3, word="unavailable")


class DecodeTest(Base):
    def test_decode(self):
        c = claims(big=12345678901234567890123, f=1.5e300, n=None)
        c["n"] = None
        tok = mint(c, alg="ES512", kid="es512")
        r = run(["decode", tok])
        self.assertEqual(r.returncode, 0, r.err)
        lines = r.out.splitlines()
        self.assertEqual(lines[0], UNVERIFIED)
        self.assertIn('  "alg": "ES512",', lines)
        self.assertIn('  "sub": "alice",', lines)
        self.assertIn('  "big": 12345678901234567890123,', lines)
        self.assertIn('  "n": null', lines)
        self.assertIn("signature: 132 bytes", lines)

    def test_decode_does_not_verify(self):
        # An expired, badly signed token still decodes, still marked.
        now = int(time.time())
        tok = mint(claims(exp=now - 99999), key_kid="rs384")
        r = run(["decode", tok])
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.out.startswith(UNVERIFIED + "\n"))
        # alg none and unknown algs are shown, not refused.
        none = b64(dumps({"alg": "none"})) + "." + b64(dumps(claims())) + "."
        r = run(["decode", none])
        self.assertEqual(r.returncode, 0, r.err)
        self.assertIn('"alg": "none"', r.out)

    def test_decode_json(self):
        c = claims(name="caf\u00e9 \U0001f600", ctl="a\x1b\x7f")
        header = {"alg": "RS256", "kid": "rs256", "typ": "JWT"}
        tok = mint(c, header=header)
        r = run(["decode", "--json", "-"], stdin=tok + "\n")
        self.assertEqual(r.returncode, 0, r.err)
        self.assertNotIn("\x1b", r.out)
        out = json.loads(r.out)
        self.assertEqual(out["warning"], UNVERIFIED)
        self.assertEqual(out["header"], header)
        self.assertEqual(out["claims"], c)
        self.assertEqual(out["signature_bytes"], 256)
        # A10: \u0000 is never accepted in a string (json.h).
        r = run(["decode", mint(claims(ctl="a\x00b"))])
        self.assertEqual(r.returncode, 1)
        self.assertIn("MALFORMED", r.err)

    def test_decode_escapes(self):
        tok = mint(claims(sub="\x1b[2J\u202e"))
        r = run(["decode", tok])
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("\x1b", r.out)
        self.assertIn('"sub": "\\u001b[2J\\u202e"', r.out)

    def test_decode_token_file(self):
        path = self.write("t", mint() + "\r\n")
        r = run(["decode", "--token-file", path])
        self.assertEqual(r.returncode, 0, r.err)
        self.assertTrue(r.out.startswith(UNVERIFIED))

    def test_decode_malformed(self):
        for tok in ("", "abc", "a.b.c", mint() + " "):
            with self.subTest(token=tok[:20]):
                r = run(["decode", tok])
                self.assertEqual(r.returncode, 1, r.out)
                self.assertEqual(r.out, "")
                self.assertTrue(r.err.startswith("wifctl: decode: "))
        r = run(["decode", "-"], stdin="a" * (TOKEN_MAX + 1))
        self.assertEqual(r.returncode, 1)
        self.assertIn("TOO_LARGE", r.err)

    def test_decode_usage(self):
        self.assertUsage(run(["decode", mint(), mint()]))
        self.assertUsage(run(["decode", "--token-file",
                              os.path.join(self.tmp, "none")]))


def publish(args):
    global WIFCTL, KEYS, TMP_PARENT
    WIFCTL = os.path.abspath(args.wifctl)
    KEYS = os.path.abspath(args.keys)
    TMP_PARENT = os.path.abspath(args.tmp)


def prepare(args, rest):
    for p in (WIFCTL, os.path.join(KEYS, "jwks.json")):
        if not os.path.exists(p):
            raise testmain.Broken("missing %s" % p)
    # `verify -c` refuses files under group- or world-writable directories.
    testmain.check_private_parents(TMP_PARENT)


if __name__ == "__main__":
    testmain.main(["--wifctl", "--keys", "--tmp"], prepare, publish)
