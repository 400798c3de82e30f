"""Ed25519 and RSA key pairs for tests, and signatures made as Binance's documentation says
(base64 of the pure Ed25519 signature, or of RSASSA-PKCS1-v1_5 with SHA-256), written from that
documentation and not from the gateway's code."""

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class KeyPair:
    key_type: str  # "ED25519" or "RSA", as the web API's keyType
    private: PrivateKey

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def sign(self, payload: bytes) -> str:
        """The base64 signature of `payload` (not URL-encoded)."""
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            raw = self.private.sign(payload)
        else:
            raw = self.private.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()


def ed25519_pair() -> KeyPair:
    return KeyPair("ED25519", ed25519.Ed25519PrivateKey.generate())


def rsa_pair(bits: int = 2048) -> KeyPair:
    return KeyPair("RSA", rsa.generate_private_key(public_exponent=65537, key_size=bits))


def new_pair(key_type: str) -> KeyPair:
    return ed25519_pair() if key_type == "ED25519" else rsa_pair()
