"""Signing keys made at test time (never committed): SSH ed25519, age identities, HMAC secrets."""

from __future__ import annotations

import secrets
import shutil
import subprocess

import pyrage
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


def ssh_ed25519(tmp_path, name="id_ed25519"):
    """(private key file, public key line) of a fresh key; made with ssh-keygen when it is installed."""
    path = tmp_path / name
    if shutil.which("ssh-keygen"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "approver@test", "-f", str(path)], check=True)
        return path, (tmp_path / f"{name}.pub").read_text().strip()
    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    return path, key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def ssh_rsa_text():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


def age_identity(tmp_path, name="signoff.age"):
    """(identity file written as age-keygen does, identity text, recipient)."""
    identity = pyrage.x25519.Identity.generate()
    path = tmp_path / name
    text = f"# created: by the test\n# public key: {identity.to_public()}\n{identity}\n"
    path.write_text(text)
    return path, str(identity), str(identity.to_public())


def hmac_secret():
    return "hm-" + secrets.token_urlsafe(32)
