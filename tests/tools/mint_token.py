#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Mints a signed test token with the keys of gen_test_keys.py.

  mint_token.py --keys DIR --iss ISS --aud AUD --sub SUB [--kid rs256]
                [--groups g1,g2] [--ttl 600] [--age 0] [--size N]
                [--claim name=value ...] [--out FILE]

--age shifts iat/nbf/exp into the past by that many seconds (an age above
the ttl makes an expired token). --size pads the token with a "pad" claim
to the longest length of at most N characters (N itself, or up to 2
less where base64url cannot hit N). The token goes to --out (mode 0600)
or stdout, without a newline.
"""
import argparse
import json
import os
import sys
import time

import jwt

ALGS = {"rs256": "RS256", "rs384": "RS384", "rs512": "RS512",
        "ps256": "PS256", "ps384": "PS384", "ps512": "PS512",
        "es256": "ES256", "es384": "ES384", "es512": "ES512",
        "eddsa": "EdDSA"}


def mint(keys, kid, claims, size=None):
    with open(os.path.join(keys, kid + ".key.pem"), "rb") as f:
        key = f.read()
    alg = ALGS[kid]
    headers = {"kid": kid, "typ": "JWT"}
    token = jwt.encode(claims, key, algorithm=alg, headers=headers)
    if size is None:
        return token
    # The longest token of at most `size` characters (base64url lengths
    # skip one value in four, so exactly `size` is not always possible).
    def make(n):
        return jwt.encode(dict(claims, pad="x" * n), key, algorithm=alg,
                          headers=headers)
    lo, hi = 0, size
    if len(make(0)) > size:
        raise SystemExit("mint_token: claims alone exceed %d" % size)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(make(mid)) <= size:
            lo = mid
        else:
            hi = mid - 1
    return make(lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", required=True)
    ap.add_argument("--kid", default="rs256", choices=sorted(ALGS))
    ap.add_argument("--iss", required=True)
    ap.add_argument("--aud", required=True)
    ap.add_argument("--sub", required=True)
    ap.add_argument("--groups", default="")
    ap.add_argument("--ttl", type=int, default=600)
    ap.add_argument("--age", type=int, default=0)
    ap.add_argument("--size", type=int)
    ap.add_argument("--claim", action="append", default=[])
    ap.add_argument("--out")
    args = ap.parse_args()

    now = int(time.time()) - args.age
    claims = {"iss": args.iss, "aud": args.aud, "sub": args.sub,
              "iat": now, "nbf": now, "exp": now + args.ttl}
    if args.groups:
        claims["groups"] = args.groups.split(",")
    for item in args.claim:
        name, _, value = item.partition("=")
        try:
            claims[name] = json.loads(value)
        except ValueError:
            claims[name] = value
    token = mint(args.keys, args.kid, claims, args.size)
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token)
    else:
        sys.stdout.write(token)


if __name__ == "__main__":
    main()
