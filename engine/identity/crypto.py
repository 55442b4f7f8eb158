"""Encryption at rest for namespace secrets: Fernet (AES-128-CBC + HMAC-SHA256) under one key per installation.

The key comes from ``LANNER_SECRET_KEY``:

- a Fernet key (``lanner secret keygen`` prints one: 32 random bytes, URL-safe base64) is used as it is;
- any other text is a passphrase, turned into a Fernet key with scrypt (n=2**14, r=8, p=1) and the fixed
  salt ``lanner-secret-key/v1``. The salt is fixed so every process derives the same key from the same
  passphrase; the passphrase is what must stay secret (and be long).

Without ``LANNER_SECRET_KEY``: in production (``LANNER_MODE=production``) there is no key and the server,
executor and worker refuse to start; in development a key is generated once into ``LANNER_HOME/secret.key``
(mode 0600) so a fresh clone runs without setup. Each ciphertext is stored with the id of its key, so a
value encrypted under another key is reported as such instead of as garbage.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from engine.config import Settings, load_settings

KEY_FILE = "secret.key"
_SALT = b"lanner-secret-key/v1"


class SecretKeyMissing(RuntimeError):
    pass


class DecryptionFailed(ValueError):
    pass


@dataclass(frozen=True)
class SecretKey:
    fernet: Fernet
    key_id: str  # a short fingerprint, stored next to each ciphertext; reveals nothing usable about the key

    def encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, ciphertext: str, key_id: str | None = None, *, what: str = "a secret") -> str:
        if key_id and key_id != self.key_id:
            raise DecryptionFailed(
                f"{what} was encrypted with key {key_id}, but LANNER_SECRET_KEY is key {self.key_id}: "
                "start Lanner with the key it was saved with, or set the secret again"
            )
        try:
            return self.fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise DecryptionFailed(f"{what} cannot be decrypted with key {self.key_id} (wrong key or damaged)") from exc


def _is_fernet_key(text: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(text.encode("ascii"))) == 32 and len(text) == 44
    except (binascii.Error, UnicodeError, ValueError):
        return False


@functools.lru_cache(maxsize=8)
def key_from_text(text: str) -> SecretKey:
    """A Fernet key as given, or one derived from a passphrase (cached: scrypt is deliberately slow)."""
    text = text.strip()
    if _is_fernet_key(text):
        raw = text.encode("ascii")
    else:
        derived = hashlib.scrypt(text.encode(), salt=_SALT, n=2**14, r=8, p=1, dklen=32)
        raw = base64.urlsafe_b64encode(derived)
    key_id = hashlib.sha256(b"lanner key id\0" + raw).hexdigest()[:12]
    return SecretKey(Fernet(raw), key_id)


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _development_key(home: Path) -> str:
    """The key in ``home/secret.key``, created once. Written to a private temporary file and linked into
    place, so two processes starting together never read a half-written key: the second link fails and
    that process reads the first one's file."""
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=home, prefix=".secret.key.")  # mkstemp creates it with mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_key() + "\n")
            with contextlib.suppress(FileExistsError):  # another process won the race: use its key
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def load_key(settings: Settings | None = None) -> SecretKey:
    """The installation's key; raises ``SecretKeyMissing`` in production without LANNER_SECRET_KEY."""
    settings = settings or load_settings()
    if settings.secret_key:
        return key_from_text(settings.secret_key)
    if settings.production:
        raise SecretKeyMissing(
            "LANNER_MODE=production needs LANNER_SECRET_KEY to encrypt namespace secrets: set it to a Fernet key "
            "(`lanner secret keygen` prints one) or a long passphrase, the same on every server, executor and worker"
        )
    return key_from_text(_development_key(settings.home))
