"""Checks an `aims audit receipt` with independent code: cbor2 decodes it, the RFC 9162
inclusion path is folded here with hashlib, and pycose verifies the COSE_Sign1 (EdDSA) over the
detached root with the public key from the log's KEY.pub.

Usage: verify_receipt.py RECEIPT RECORD KEY.pub
"""

import base64
import hashlib
import sys

import cbor2
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0, "wrong path length"
    return r


def main() -> None:
    receipt_path, record_path, key_path = sys.argv[1:4]
    raw = open(receipt_path, "rb").read()
    record = open(record_path, "rb").read().removesuffix(b"\n")
    key_text = open(key_path).read().strip()
    public = base64.b64decode(key_text.split("+", 2)[2])[1:]

    tagged = cbor2.loads(raw)
    assert tagged.tag == 18, tagged.tag
    protected_bytes, unprotected, payload, _signature = tagged.value
    protected = cbor2.loads(protected_bytes)
    assert protected[1] == -8 and protected[395] == 1, protected
    assert payload is None
    [proof_bytes] = unprotected[396][-1]
    size, index, path = cbor2.loads(proof_bytes)
    leaf = hashlib.sha256(b"\x00" + record).digest()
    root = root_from_path(index, size, leaf, path)

    message = Sign1Message.decode(raw)
    message.payload = root
    message.key = OKPKey(crv=Ed25519, x=public)
    assert message.verify_signature(), "signature does not verify"
    # The same receipt does not verify another record.
    message.payload = root_from_path(index, size, hashlib.sha256(b"\x00x").digest(), path)
    assert not message.verify_signature()
    print(f"ok: pycose verified the receipt of entry {index} of {size}")


if __name__ == "__main__":
    main()
