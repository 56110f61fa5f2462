#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the committed seed corpora of the fuzz targets (tests/fuzz/corpus).

Run it again only to change the seeds: it makes new throwaway keys, so every
signed seed changes with them. Everything is small (a few KB per target).

  corpus/jws/      compact tokens signed by keys/jwks.json's keys, valid at
                   the fuzzers' fixed clock, and bad variants of them
  corpus/jwks/     key sets and single keys (valid and policy-breaking)
  corpus/claims/   claims sets (JSON) for the fixed providers
  corpus/config/   the valid and some invalid tests/data/config files
  corpus/json/     JSON documents (claims, headers, key sets, edge cases)
  corpus/b64url/   base64url strings
  corpus/prompt/   prompt answers (newline-separated) and prompts
  corpus/handover/ WIF_* hand-over values, one a line
  corpus/map/      pam_wif.map texts for the fixed providers
  corpus/discovery/     discovery documents
  corpus/cachefile/     JWKS cache files (jwks_store.h format)
  corpus/cachecontrol/  Cache-Control header blocks
  corpus/source/   token-source responses (IMDS, GCP, GitHub, exec)
  corpus/replay/   replay store and journal files (replay.h formats) and
                   damaged ones
  corpus/glob/     require globs: pattern, a NUL byte, value
  keys/jwks.json   the public keys fuzz_jws validates against

The fixed clock and the provider settings are in fuzz_jws.c; keep them in
step with NOW, ISS and AUD below.

Usage: make_corpus.py [--out tests/fuzz]
"""
import argparse
import base64
import hashlib
import json
import os
import shutil

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

NOW = 1767225600  # WIF_FUZZ_NOW in fuzz_jws.c (2026-01-01T00:00:00Z)
ISS = "https://issuer.example/fuzz"
ISS2 = "https://other.example/fuzz"
AUD = "fuzz-aud"


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64int(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64(n.to_bytes(size, "big"))


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def public_jwk(key, kid, alg=None):
    pub = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        nums = pub.public_numbers()
        jwk = {"kty": "RSA", "n": b64int(nums.n), "e": b64int(nums.e)}
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        nums = pub.public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64int(nums.x, 32),
               "y": b64int(nums.y, 32)}
    else:
        raw = pub.public_bytes(serialization.Encoding.Raw,
                               serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
    jwk["kid"] = kid
    jwk["use"] = "sig"
    if alg:
        jwk["alg"] = alg
    return jwk


class Writer:
    def __init__(self, root):
        self.root = root

    def put(self, target, data):
        if isinstance(data, str):
            data = data.encode()
        d = os.path.join(self.root, "corpus", target)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def sign(key, alg, kid, claims, header=None):
    headers = {"kid": kid} if kid else {}
    if header:
        headers.update(header)
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def jws_seeds(w, keys):
    rsa_key, ec_key, ed_key = keys
    base = {"iss": ISS, "aud": AUD, "sub": "workload-1", "exp": NOW + 3600,
            "iat": NOW - 60, "nbf": NOW - 60, "tid": "tenant-1",
            "groups": ["g1", "g2"], "nested": {"user": "alice"}}
    good = [
        sign(rsa_key, "RS256", "rs", base),
        sign(rsa_key, "PS256", "rs", base),
        sign(ec_key, "ES256", "es", base),
        sign(ed_key, "EdDSA", "ed", base),
        sign(rsa_key, "RS256", None, base),
        sign(rsa_key, "RS256", "rs", dict(base, aud=["x", AUD])),
        sign(rsa_key, "RS256", "rs", dict(base, iss=ISS2)),
        sign(ec_key, "ES256", "es", dict(base, exp=NOW + 10.5)),
        sign(rsa_key, "RS256", "rs", base, {"typ": "at+jwt"}),
    ]
    bad = [
        sign(rsa_key, "RS256", "rs", dict(base, exp=NOW - 3600)),
        sign(rsa_key, "RS256", "rs", dict(base, aud="other")),
        sign(rsa_key, "RS256", "rs", dict(base, sub="")),
        sign(rsa_key, "RS256", "rs", dict(base, groups="g1")),
        sign(rsa_key, "RS256", "rs", dict(base, tid="tenant-2")),
        sign(rsa_key, "RS256", "nope", base),
        sign(rsa_key, "RS256", "rs", base, {"crit": ["exp"]}),
        sign(rsa_key, "RS256", "rs", base, {"typ": "dpop+jwt"}),
        sign(rsa_key, "RS512", "rs", base),
    ]
    for t in good + bad:
        w.put("jws", t)
    for c in (base, dict(base, exp=NOW - 3600), dict(base, aud=["a", AUD]),
              dict(base, iss=ISS2), dict(base, groups=["g"] * 3, exp=1e10),
              {"iss": ISS, "aud": AUD, "sub": "s", "exp": NOW + 1.5}):
        w.put("claims", dumps(c))
    h, p, s = good[0].split(".")
    w.put("jws", h + "." + p + ".")
    w.put("jws", b64('{"alg":"none"}') + "." + p + ".")
    w.put("jws", h + "." + p + "." + s + ".")
    w.put("jws", "a.b.c.d.e")
    w.put("jws", "")


def jwks_seeds(w, keys, jwks):
    rsa_key, ec_key, ed_key = keys
    w.put("jwks", dumps(jwks))
    w.put("jwks", dumps({"keys": [public_jwk(rsa_key, "r", "RS256")]}))
    w.put("jwks", dumps({"keys": [public_jwk(ec_key, "e", "ES256")]}))
    w.put("jwks", dumps({"keys": [public_jwk(ed_key, "d")]}))
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    w.put("jwks", dumps({"keys": [public_jwk(small, "small"),
                                  public_jwk(ec_key, "e")]}))
    w.put("jwks", dumps({"keys": [{"kty": "oct", "k": "AAAA"}]}))
    w.put("jwks", dumps({"keys": [dict(public_jwk(ec_key, "e"), d="AAAA")]}))
    w.put("jwks", dumps({"keys": [dict(public_jwk(rsa_key, "r"), use="enc"),
                                  public_jwk(ed_key, "d")]}))
    w.put("jwks", dumps({"keys": [public_jwk(rsa_key, "x"),
                                  public_jwk(ec_key, "x")]}))
    w.put("jwks", dumps({"keys": []}))
    w.put("jwks", "[]")


def config_seeds(w, root):
    data = os.path.join(root, "..", "data", "config")
    for sub in ("valid", "invalid"):
        d = os.path.join(data, sub)
        for name in sorted(os.listdir(d)):
            if sub == "invalid" and name not in (
                    "duplicate-key.conf", "no-equals.conf", "control-char.conf",
                    "bad-require-pointer.conf", "timeout-negative.conf"):
                continue
            with open(os.path.join(d, name), "rb") as f:
                w.put("config", f.read())


def json_seeds(w, jwks):
    docs = [
        dumps(jwks["keys"][0]),
        '{"alg":"RS256","kid":"rs","typ":"JWT"}',
        '{"iss":"https://x","aud":["a","b"],"exp":1.7e9,"n":-0,"t":true,'
        '"f":false,"z":null,"e":"\\u00e9\\ud83d\\ude00\\n\\"\\/\\\\"}',
        '[[[[[[[[[[]]]]]]]]]]',
        '{"a":{"b":{"c":[1,2,{"d":"e"}]}}}',
        ' { "sp" : [ 1 , 2 ] } ',
        '["\u00e9\u4e2d"]',
        '{"big":123456789012345678901234567890,"r":1e308,"m":-1E-5}',
    ]
    for d in docs:
        w.put("json", d)


def b64url_seeds(w):
    for data in (b"", b"f", b"fo", b"foo", b"foob", b"\xff\xfe\xfd",
                 bytes(range(64))):
        w.put("b64url", b64(data))
    w.put("b64url", "AB")
    w.put("b64url", "Zm9v+/==")


def handover_seeds(w):
    # WIF_PROVIDER ... WIF_BINDING, one a line; "-" is unset.
    w.put("handover", "users\nalice\nhttps://issuer.example/\n1700000000\n"
          "user:alice\n" + "0" * 32 + ":" + "0" * 64 + "\n")
    w.put("handover", "users\n-\nhttps://i/\n-5\ngroup:g\\x5c1\n-\n")
    w.put("handover", "-\n-\n-\n9223372036854775807\n-\n-\n")


def prompt_seeds(w):
    w.put("prompt", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA")
    w.put("prompt", "eyJhbGci\\\nOiJSUzI1NiJ9.e30\\\n.AAAA")
    w.put("prompt", "(alice@db1) Workload identity token (part 7): ")
    w.put("prompt", "Workload identity token: ")
    w.put("prompt", "\\\n\\\n\\\nx")
    w.put("prompt", "\\\n" * 70)


def helper_seeds(w):
    """The fetch helper's answers (common/helper.h)."""
    w.put("helper", "ok 0 5\nhello")
    w.put("helper", 'log 4 provider "x": keys not refreshed\n'
          "ok 1767225600 3\nabc")
    w.put("helper", 'error JWKS_UNAVAILABLE provider "x": no usable keys\n')
    w.put("helper", "error OK nothing\n")
    w.put("helper", "ok 0 10\nshort")
    w.put("helper", "log 9 bad\nok 0 0\n")
    w.put("helper", "log 3 a\n" * 70 + "ok 0 0\n")


GLOB_SEEDS = (("prod*", "prod/../x"), ("prod**", "prod/../x"),
              ("repo:octo/*:ref:refs/heads/[mr]*",
               "repo:octo/db:ref:refs/heads/main"),
              ("[!a-c]?\\*", "d/*"), ("*a*a*a*b", "a" * 20),
              ("[]]x[^-]", "]x+"), ("a/**/b", "a/x/y/b"), ("[z-a]", "z"),
              ("[\x80-\xff]?", "\u00e9"), ("a\\", "a"))


def glob_seeds(w):
    for pattern, value in GLOB_SEEDS:
        w.put("glob", pattern.encode() + b"\0" + value.encode())


def later_seeds(w, keys, jwks):
    for m in ("main user workload-1 alice\nsecond group g1 bob,carol\n",
              "# comment\nmain   user  a\\b  nobody  # trailing\r\n",
              "main group g1 alice\n", "main user x root,-bad\n"):
        w.put("map", m)
    for d in ({"issuer": ISS, "jwks_uri": "https://issuer.example/keys"},
              {"issuer": ISS + "/", "jwks_uri": "https://issuer.example/k"},
              {"issuer": ISS, "jwks_uri": "http://issuer.example/keys"},
              {"issuer": ISS, "jwks_uri": "https://issuer.example/k",
               "authorization_endpoint": "https://x", "extra": [1, {}]}):
        w.put("discovery", dumps(d))
    text = dumps(jwks)
    for f in ({"version": 1, "issuer": ISS, "jwks_uri": "",
               "source": "https://issuer.example/keys", "fetched_at": NOW,
               "fresh_until": NOW + 3600, "jwks": text},
              {"version": 1, "issuer": ISS, "jwks_uri": "",
               "source": "https://issuer.example/keys", "fetched_at": NOW,
               "fresh_until": NOW + 10, "jwks": text},
              {"version": 2, "issuer": ISS, "jwks_uri": "",
               "source": "https://issuer.example/keys", "fetched_at": NOW,
               "fresh_until": NOW + 3600, "jwks": "{}"}):
        w.put("cachefile", dumps(f))
    for h in ("Cache-Control: max-age=600",
              "Content-Type: application/json\ncache-control: public, "
              "max-age=99999999999999999999\nCache-Control: max-age=-5",
              "Cache-Control: no-store", "CACHE-CONTROL: max-age=\"300\", "
              "s-maxage=10", "Cache-Control: max-age=0\nCache-Control: x"):
        w.put("cachecontrol", h)
    rsa_key = keys[0]
    tok = sign(rsa_key, "RS256", "rs", {"iss": ISS, "exp": NOW + 3600})
    for b in (tok + "\n", tok + "\r\n",
              dumps({"access_token": tok, "expires_in": "3599",
                     "expires_on": str(NOW + 3600), "token_type": "Bearer"}),
              dumps({"value": tok, "count": 1}),
              dumps({"apiVersion": "client.authentication.k8s.io/v1",
                     "kind": "ExecCredential", "status": {
                         "token": tok,
                         "expirationTimestamp": "2026-01-01T01:00:00Z"}}),
              " " + tok, tok + "\\"):
        w.put("source", b)


def replay_image(iss, entries, count=None, magic=b"WIFRPL\0\1"):
    """A replay store file (common/replay.h) of (key, until) entries."""
    def h(domain, a):
        return hashlib.sha256(domain + len(a).to_bytes(8, "little") +
                              a).digest()
    head = magic + h(b"pam_wif replay issuer v1\n", iss.encode())
    n = len(entries) if count is None else count
    body = b"".join(k + u.to_bytes(8, "little", signed=True)
                    for k, u in entries)
    return head + n.to_bytes(4, "little") + bytes(4) + body


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) % 2 ** 64
    return h


def journal_image(iss, entries, magic=b"WIFRPJ\0\1", torn=b""):
    """A replay journal (common/replay.h): records in the given order."""
    head = replay_image(iss, [], magic=magic)[:40] + bytes(8)
    recs = b""
    for k, u in entries:
        e = k + u.to_bytes(8, "little", signed=True)
        recs += e + fnv1a(e).to_bytes(8, "little")
    return head + recs + torn


def replay_seeds(w):
    """Store and journal files for fuzz_replay, bound to the fixture's
    first issuer (the target reads each input as both)."""
    def key(jti):
        iss = ISS.encode()
        return hashlib.sha256(b"pam_wif replay jti v1\n" +
                              len(iss).to_bytes(8, "little") + iss +
                              jti.encode()).digest()
    live = sorted((key("j%d" % i), NOW + 600 + i) for i in range(8))
    mixed = sorted((key("m%d" % i), NOW - 5 if i % 2 else NOW + 60)
                   for i in range(6))
    w.put("replay", replay_image(ISS, []))
    w.put("replay", replay_image(ISS, live))
    w.put("replay", replay_image(ISS, mixed))
    w.put("replay", replay_image(ISS, [(key("fuzz-jti"), NOW + 600)]))
    w.put("replay", replay_image(ISS, [(key("fuzz-jti"), NOW - 1)]))
    w.put("replay", replay_image(ISS, [(key("x"), 2 ** 63 - 1)]))
    w.put("replay", replay_image(ISS2, live))
    w.put("replay", replay_image(ISS, live[::-1]))
    w.put("replay", replay_image(ISS, live, count=9))
    w.put("replay", replay_image(ISS, live, magic=b"WIFRPL\0\2"))
    w.put("replay", replay_image(ISS, [(key("z"), 0)]))
    w.put("replay", replay_image(ISS, live)[:-1])
    w.put("replay", journal_image(ISS, []))
    w.put("replay", journal_image(ISS, live[::-1]))
    w.put("replay", journal_image(ISS, mixed + mixed))
    w.put("replay", journal_image(ISS, [(key("fuzz-jti"), NOW + 600)]))
    w.put("replay", journal_image(ISS, live, torn=bytes(20)))
    w.put("replay", journal_image(ISS2, live))
    damaged = bytearray(journal_image(ISS, live))
    damaged[48 + 3] ^= 1
    w.put("replay", bytes(damaged))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    root = args.out
    shutil.rmtree(os.path.join(root, "corpus"), ignore_errors=True)
    keys = (rsa.generate_private_key(public_exponent=65537, key_size=2048),
            ec.generate_private_key(ec.SECP256R1()),
            ed25519.Ed25519PrivateKey.generate())
    jwks = {"keys": [public_jwk(keys[0], "rs"), public_jwk(keys[1], "es"),
                     public_jwk(keys[2], "ed")]}
    os.makedirs(os.path.join(root, "keys"), exist_ok=True)
    with open(os.path.join(root, "keys", "jwks.json"), "w") as f:
        f.write(json.dumps(jwks, indent=1) + "\n")
    w = Writer(root)
    jws_seeds(w, keys)
    jwks_seeds(w, keys, jwks)
    config_seeds(w, root)
    json_seeds(w, jwks)
    b64url_seeds(w)
    prompt_seeds(w)
    handover_seeds(w)
    later_seeds(w, keys, jwks)
    replay_seeds(w)
    glob_seeds(w)
    helper_seeds(w)


if __name__ == "__main__":
    main()
