#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Makes the throwaway signing keys the tests use.

Writes, into --out:
  <kid>.key.pem      private key (PKCS#8) for each kid below
  <kid>.jwk.json     its public JWK, with kid, use=sig and the alg hint
  jwks.json          every public JWK in one set
  jwks-noalg.json    the same keys without alg hints
  rsa1024.key.pem / rsa1024.jwk.json   a key below policy, for rejection tests

Keys are new on every run; nothing here is a secret worth keeping.
"""
import argparse
import base64
import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

KEYS = [
    ("rs256", "RS256", ("rsa", 2048)),
    ("rs384", "RS384", ("rsa", 2048)),
    ("rs512", "RS512", ("rsa", 3072)),
    ("ps256", "PS256", ("rsa", 2048)),
    ("ps384", "PS384", ("rsa", 2048)),
    ("ps512", "PS512", ("rsa", 4096)),
    ("es256", "ES256", ("ec", ec.SECP256R1())),
    ("es384", "ES384", ("ec", ec.SECP384R1())),
    ("es512", "ES512", ("ec", ec.SECP521R1())),
    ("eddsa", "EdDSA", ("okp", None)),
]

CURVES = {"secp256r1": ("P-256", 32), "secp384r1": ("P-384", 48),
          "secp521r1": ("P-521", 66)}


def b64(n_or_bytes, size=None):
    if isinstance(n_or_bytes, int):
        size = size or (n_or_bytes.bit_length() + 7) // 8
        n_or_bytes = n_or_bytes.to_bytes(size, "big")
    return base64.urlsafe_b64encode(n_or_bytes).rstrip(b"=").decode()


def make(kind, param):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=param)
    if kind == "ec":
        return ec.generate_private_key(param)
    return ed25519.Ed25519PrivateKey.generate()


def public_jwk(key):
    pub = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        nums = pub.public_numbers()
        return {"kty": "RSA", "n": b64(nums.n), "e": b64(nums.e)}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        crv, size = CURVES[pub.curve.name]
        nums = pub.public_numbers()
        return {"kty": "EC", "crv": crv, "x": b64(nums.x, size),
                "y": b64(nums.y, size)}
    raw = pub.public_bytes(serialization.Encoding.Raw,
                           serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}


def write(path, data, mode=0o600):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def save(out, kid, alg, key):
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write(os.path.join(out, kid + ".key.pem"), pem)
    jwk = dict(public_jwk(key), kid=kid, use="sig")
    if alg:
        jwk["alg"] = alg
    write(os.path.join(out, kid + ".jwk.json"), json.dumps(jwk).encode(), 0o644)
    return jwk


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, mode=0o755, exist_ok=True)

    jwks = [save(args.out, kid, alg, make(*spec)) for kid, alg, spec in KEYS]
    noalg = [{k: v for k, v in j.items() if k != "alg"} for j in jwks]
    write(os.path.join(args.out, "jwks.json"),
          json.dumps({"keys": jwks}, indent=1).encode(), 0o644)
    write(os.path.join(args.out, "jwks-noalg.json"),
          json.dumps({"keys": noalg}, indent=1).encode(), 0o644)
    save(args.out, "rsa1024", None, make("rsa", 1024))


if __name__ == "__main__":
    main()
