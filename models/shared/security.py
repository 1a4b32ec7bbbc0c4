"""Secrets at rest: password hashes and the digests of the tokens sent to users."""

from __future__ import annotations

import hashlib
import hmac
import re

from werkzeug.security import check_password_hash, generate_password_hash

# scrypt with Werkzeug's default cost (n=32768, r=8, p=1): about 0.1 s and 32 MB
# for each hash, on purpose. Only the test suite asks for less (``hash_cost``).
DEFAULT_METHOD = "scrypt"
_method = DEFAULT_METHOD
# A hash to check against when the account does not exist, so that an unknown
# identifier costs the same time as a wrong password (one per method; the servers'
# is made at start-up, so that the first unknown identifier costs no more either).
_dummy_hashes = {DEFAULT_METHOD: generate_password_hash("not a password of anyone")}


def hash_cost(method: str) -> None:
    """The hash method of this process from now on: ``create_app`` sets the test
    suite's cheaper scrypt (``PASSWORD_HASH_METHOD``, refused outside tests and demo
    mode), so that its thousand sign-ins do not spend minutes on a cost no attacker
    meets there."""
    global _method
    _method = method


def hash_password(password: str) -> str:
    """scrypt, Werkzeug's default: deliberately slow to compute."""
    return generate_password_hash(password, method=_method)


def _dummy_hash() -> str:
    if _method not in _dummy_hashes:
        _dummy_hashes[_method] = hash_password("not a password of anyone")
    return _dummy_hashes[_method]


def password_matches(password_hash: str | None, password: str) -> bool:
    """Always pays for one hash check, whether or not there is a hash to check."""
    matches = check_password_hash(password_hash or _dummy_hash(), password)
    # No hash (None, or "" for an account that has not chosen one yet): never a match.
    return matches and bool(password_hash)


def token_digest(token: str) -> str:
    """What the database keeps of a token: a stolen table gives no usable link."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_text(expected: str, given: str) -> bool:
    """Constant-time comparison of two strings, whatever characters ``given`` holds."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


# The activation code printed on a credentials letter: 16 characters (73 bits), in
# groups of four, easy to read and to type: no two characters that look alike, in print
# or handwritten (no 0/O, 1/I/L, 2/Z, 5/S, 8/B: all of them left out). A code printed
# with an earlier alphabet still works: an account keeps the digest of the code as typed,
# and a letter not printed yet is given a new code (``letters.letters_of``).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"
CODE_LENGTH = 16


def activation_code_from(seed: str, key: str) -> str:
    """The code a letter's random seed gives with the service's secret key: the same every
    time the letter is printed, and nothing without the key (``models.letters``)."""
    mac = hmac.new(key.encode("utf-8"), b"credentials-letter:" + seed.encode(), hashlib.sha256)
    number = int.from_bytes(mac.digest(), "big")  # 256 bits for 80: no visible bias
    raw = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        raw.append(CODE_ALPHABET[index])
    return _grouped("".join(raw))


def example_activation_code() -> str:
    """What the sign-in page shows as an example: characters a code may hold."""
    return _grouped(CODE_ALPHABET[:CODE_LENGTH])


def _grouped(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def activation_digest(typed: str) -> str:
    """A code as typed from the letter: any case, with or without dashes (a word
    processor's too) or spaces. Long and random, it needs no slow hash (as with the
    reset links)."""
    return token_digest("activation:" + re.sub(r"[\s\-\u2010-\u2014]", "", typed).upper())
