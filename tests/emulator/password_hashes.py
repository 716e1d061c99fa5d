"""Password hashes of import jobs (reference §1, §3, §10; SPEC §9): which encoded forms a
hash job accepts, verifying a password against an imported hash, and making hashes for
tests.

Documented [IMPORT, newer copy] [MODEL]: CreateUserImportJob `PasswordHashingAlgorithm`
is BCRYPT, SCRYPT, ARGON2ID or PBKDF2_SHA256; the file has a `password_hash` column; a
valid hash imports the user CONFIRMED, a blank cell RESET_REQUIRED.

UNDOCUMENTED (reference §10: "the exact encoding Cognito expects per algorithm"), chosen:
the standard encoded forms, the ones common libraries write:
- BCRYPT: modular crypt `$2a$`/`$2b$`/`$2y$`, cost 04-31, 53 characters of salt and hash.
- ARGON2ID: PHC `$argon2id$v=19$m=..,t=..,p=..$salt$hash` (argon2-cffi, the reference C
  implementation).
- SCRYPT: PHC `$scrypt$ln=..,r=..,p=..$salt$hash` (passlib, RustCrypto `scrypt`).
- PBKDF2_SHA256: PHC `$pbkdf2-sha256$i=..[,l=..]$salt$hash` (RustCrypto `pbkdf2`).
Salt and hash are unpadded standard base 64 (PHC "B64"). Config `strict_hash_forms` is the
plausible stricter alternative: only `$2b$` bcrypt, and the PHC parameters exactly as listed
(pbkdf2 with `l=`).

Verification uses pinned libraries (requirements.txt): `bcrypt`, `argon2-cffi`, and the
standard library's `hashlib.scrypt` / `hashlib.pbkdf2_hmac`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

ALGORITHMS = ("BCRYPT", "SCRYPT", "ARGON2ID", "PBKDF2_SHA256")

_B64 = r"[A-Za-z0-9+/]+"
_BCRYPT = re.compile(r"^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")
_BCRYPT_STRICT = re.compile(r"^\$2b\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")
_PHC = re.compile(r"^\$(?P<id>[a-z0-9-]+)(?:\$v=(?P<v>\d+))?\$(?P<params>[a-z0-9]+=[^$,]+(?:,[a-z0-9]+=[^$,]+)*)"
                  rf"\$(?P<salt>{_B64})\$(?P<hash>{_B64})$")
_PHC_RULES = {
    # algorithm: (PHC id, required decimal params, strict: exact param list, version)
    "ARGON2ID": ("argon2id", ("m", "t", "p"), ("m", "t", "p"), "19"),
    "SCRYPT": ("scrypt", ("ln", "r", "p"), ("ln", "r", "p"), None),
    "PBKDF2_SHA256": ("pbkdf2-sha256", ("i",), ("i", "l"), None),
}


def b64decode(text: str) -> bytes:
    """PHC B64: standard alphabet, no padding."""
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _phc(hash_: str) -> dict | None:
    m = _PHC.match(hash_)
    if not m:
        return None
    params = dict(p.split("=", 1) for p in m.group("params").split(","))
    try:
        salt, digest = b64decode(m.group("salt")), b64decode(m.group("hash"))
    except (binascii.Error, ValueError):
        return None
    return {"id": m.group("id"), "v": m.group("v"), "params": params, "params_order": list(params),
            "salt": salt, "hash": digest}


def valid_form(algorithm: str, hash_: str, strict: bool = False) -> bool:
    """Whether `hash_` is in the accepted encoded form of `algorithm` (see the module doc)."""
    if algorithm == "BCRYPT":
        return bool((_BCRYPT_STRICT if strict else _BCRYPT).match(hash_))
    rule = _PHC_RULES.get(algorithm)
    parsed = _phc(hash_) if rule else None
    if parsed is None:
        return False
    ident, required, exact, version = rule
    if parsed["id"] != ident:
        return False
    if version is not None and parsed["v"] != version:
        return False
    if version is None and parsed["v"] is not None:
        return False
    params = parsed["params"]
    if not all(params.get(k, "").isdigit() for k in required):
        return False
    if strict and (parsed["params_order"] != list(exact) or not all(v.isdigit() for v in params.values())):
        return False
    return True


def verify(algorithm: str, hash_: str, password: str) -> bool:
    """Whether `password` matches an imported hash. Never raises for a bad hash."""
    pw = password.encode()
    try:
        if algorithm == "BCRYPT":
            import bcrypt
            return bcrypt.checkpw(pw, hash_.encode())
        if algorithm == "ARGON2ID":
            import argon2
            try:
                return argon2.PasswordHasher().verify(hash_, pw)
            except argon2.exceptions.VerificationError:
                return False
        parsed = _phc(hash_)
        if parsed is None:
            return False
        params, salt, expected = parsed["params"], parsed["salt"], parsed["hash"]
        if algorithm == "SCRYPT":
            n, r, p = 2 ** int(params["ln"]), int(params["r"]), int(params["p"])
            got = hashlib.scrypt(pw, salt=salt, n=n, r=r, p=p, dklen=len(expected),
                                 maxmem=256 * 1024 * 1024)
        elif algorithm == "PBKDF2_SHA256":
            got = hashlib.pbkdf2_hmac("sha256", pw, salt, int(params["i"]), len(expected))
        else:
            return False
        return hmac.compare_digest(got, expected)
    except Exception:
        return False


def make(algorithm: str, password: str) -> str:
    """A hash of `password` in the standard form, made by a standard library, with cheap
    parameters (tests only)."""
    pw = password.encode()
    salt = os.urandom(16)
    if algorithm == "BCRYPT":
        import bcrypt
        return bcrypt.hashpw(pw, bcrypt.gensalt(4)).decode()
    if algorithm == "ARGON2ID":
        import argon2
        return argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(pw)
    if algorithm == "SCRYPT":
        digest = hashlib.scrypt(pw, salt=salt, n=2 ** 4, r=8, p=1, dklen=32)
        return f"$scrypt$ln=4,r=8,p=1${b64encode(salt)}${b64encode(digest)}"
    if algorithm == "PBKDF2_SHA256":
        digest = hashlib.pbkdf2_hmac("sha256", pw, salt, 1000, 32)
        return f"$pbkdf2-sha256$i=1000,l=32${b64encode(salt)}${b64encode(digest)}"
    raise ValueError(algorithm)
