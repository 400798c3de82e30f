"""gateway.keytypes: public-key checks at key creation and signature checks per key type."""

import base64
import hashlib
import hmac
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from exchange_core.errors import ApiError
from gateway.keytypes import KeyType, normalize_public_key, parse_key_type, signature_valid
from tests.keypairs import ed25519_pair, new_pair, rsa_pair

PAYLOAD = b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=20000&timestamp=1700000000000"


def refusal(key_type: KeyType, pem: str) -> str:
    with pytest.raises(ApiError) as failure:
        normalize_public_key(key_type, pem)
    assert (failure.value.code, failure.value.status) == (-1130, 400)
    return failure.value.msg


def test_key_type_names() -> None:
    assert [parse_key_type(t) for t in ("hmac", "Ed25519", " RSA ")] == list(KeyType)
    with pytest.raises(ApiError):
        parse_key_type("ECDSA")


def test_public_keys_are_checked_and_normalized() -> None:
    ed, rsa = ed25519_pair(), rsa_pair()
    assert normalize_public_key(KeyType.ED25519, f"\n  {ed.public_pem}  \n") == ed.public_pem
    assert normalize_public_key(KeyType.RSA, rsa.public_pem) == rsa.public_pem
    assert "private key" in refusal(KeyType.RSA, rsa.private_pem)
    assert "not a valid PEM" in refusal(
        KeyType.ED25519, "MCowBQYDK2VwAyEAgmDRTtj2FA+wzJUIlAL9ly1eovjLBu7uXUFR+jFULmg="
    )
    assert "not a valid PEM" in refusal(KeyType.ED25519, ed.public_pem.replace("A", "*", 3))
    assert "not an Ed25519" in refusal(KeyType.ED25519, rsa.public_pem)
    assert "not an RSA" in refusal(KeyType.RSA, ed.public_pem)
    ecdsa = ec.generate_private_key(ec.SECP256R1()).public_key()  # neither RSA nor Ed25519
    ec_text = ecdsa.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    assert "not an RSA" in refusal(KeyType.RSA, ec_text)
    assert "not an Ed25519" in refusal(KeyType.ED25519, ec_text)
    assert "2048 bits (this one has 1024)" in refusal(KeyType.RSA, rsa_pair(1024).public_pem)
    assert "required" in refusal(KeyType.ED25519, "  ")
    assert "HMAC" in refusal(KeyType.HMAC, ed.public_pem)
    assert "too long" in refusal(KeyType.RSA, "A" * 20_000)


@pytest.mark.parametrize("key_type", ["ED25519", "RSA"])
def test_asymmetric_signatures(key_type: str) -> None:
    pair = new_pair(key_type)
    pem = pair.public_pem
    signature = pair.sign(PAYLOAD)
    assert signature_valid(pair.key_type, b"", pem, PAYLOAD, signature)
    assert signature_valid(pair.key_type, b"", pem, PAYLOAD, signature.replace("+", " "))  # unencoded '+'
    assert not signature_valid(pair.key_type, b"", pem, PAYLOAD + b"&x=1", signature)
    assert not signature_valid(pair.key_type, b"", pem, PAYLOAD, quote(signature, safe=""))  # still encoded
    assert not signature_valid(pair.key_type, b"", pem, PAYLOAD, "not base64!")
    assert not signature_valid(pair.key_type, b"", pem, PAYLOAD, base64.b64encode(b"\0" * 64).decode())
    other = new_pair(key_type)
    assert not signature_valid(pair.key_type, b"", pem, PAYLOAD, other.sign(PAYLOAD))


def test_hmac_signatures_in_either_case() -> None:
    secret = b"s" * 64
    hexed = hmac.new(secret, PAYLOAD, hashlib.sha256).hexdigest()
    assert signature_valid("HMAC", secret, "", PAYLOAD, hexed)
    assert signature_valid("HMAC", secret, "", PAYLOAD, hexed.upper())
    assert not signature_valid("HMAC", secret, "", PAYLOAD + b"x", hexed)
