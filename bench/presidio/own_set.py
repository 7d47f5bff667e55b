"""Our own labelled set, generated offline with a fixed seed: cards of every network, IBANs of
many countries, one-digit-changed checksum negatives that must not be flagged, other checksummed
identifiers, and JSON tool-call payloads.

Each sample is {"text", "spans": [{"entity", "start", "end"}], "group"}; offsets are Python
string indices, end exclusive.
"""

import hashlib
import json
import random

from faker import Faker

CARD_TYPES = [
    "visa13", "visa16", "visa19", "mastercard", "amex", "discover",
    "jcb15", "jcb16", "diners", "maestro",
]
# Networks Faker does not generate: (prefix, length).
EXTRA_CARD_PREFIXES = [
    ("2221", 16), ("2720", 16),  # Mastercard 2-series bounds
    ("62", 16), ("62", 19),      # UnionPay
    ("2200", 16), ("2204", 16),  # Mir
    ("6521", 16), ("81", 16),    # RuPay
    ("3528", 16), ("3589", 19),  # JCB bounds
    ("9792", 16),                # Troy
]
# Assigned US area codes (NANP), so generated numbers are real-looking and valid.
US_AREA_CODES = [212, 213, 305, 312, 415, 503, 617, 646, 702, 713, 808, 917]
IBAN_LOCALES = [
    "de_DE", "fr_FR", "en_GB", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_PT", "de_AT",
    "de_CH", "fi_FI", "no_NO", "sv_SE", "da_DK", "cs_CZ", "sk_SK", "hu_HU", "ro_RO",
    "bg_BG", "el_GR", "lt_LT", "lv_LV", "et_EE", "hr_HR", "sl_SI", "en_IE", "tr_TR",
    "fr_BE", "az_AZ", "ka_GE",
]
CARD_SENTENCES = [
    "Please charge {} for the renewal.",
    "card number: {}",
    "My {} card was declined twice.",
    "Refund to {} (exp 04/29).",
]
IBAN_SENTENCES = [
    "Wire the deposit to IBAN {} by Friday.",
    "Account {} belongs to the supplier.",
    "iban={}",
]
NEGATIVE_SENTENCES = [
    "Order reference {} was shipped.",
    "Ticket {} is closed.",
    "Tracking id: {}",
]


def luhn_complete(partial):
    """The digit that completes `partial` under Luhn."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number):
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(iban):
    compact = iban.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def group(number, rng):
    """The number as written: compact, or in the network's groups with spaces or dashes
    (4-6-5 for 15 digits, 4-6-4 for 14, fours for 16 and 19)."""
    style = rng.choice(["compact", "space", "dash"])
    sizes = {15: [4, 6, 5], 14: [4, 6, 4], 16: [4] * 4, 19: [4] * 4 + [3]}.get(len(number))
    if style == "compact" or sizes is None:
        return number
    parts, at = [], 0
    for size in sizes:
        parts.append(number[at:at + size])
        at += size
    return (" " if style == "space" else "-").join(parts)


def change_one_digit(text, rng):
    """`text` with one digit (not the first) replaced by a different digit."""
    positions = [i for i, c in enumerate(text) if c.isdigit()][1:]
    i = rng.choice(positions)
    new = rng.choice([d for d in "0123456789" if d != text[i]])
    return text[:i] + new + text[i + 1:]


def sample(template, value, entity, group_name):
    start = template.index("{}")
    text = template.format(value)
    spans = [] if entity is None else [{"entity": entity, "start": start, "end": start + len(value)}]
    return {"text": text, "spans": spans, "group": group_name}


def cards(fake, rng):
    numbers = []
    for card_type in CARD_TYPES:
        for _ in range(40):
            numbers.append(fake.credit_card_number(card_type=card_type))
    for prefix, length in EXTRA_CARD_PREFIXES:
        for _ in range(20):
            body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
            numbers.append(body + luhn_complete(body))
    return numbers


def ibans():
    out = []
    for locale in IBAN_LOCALES:
        fake = Faker(locale)
        fake.seed_instance(len(out) + 1)
        for _ in range(15):
            out.append(fake.iban())
    return out


def nhs_number(rng):
    while True:
        body = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(body, range(10, 1, -1))) % 11
        if check == 11:
            check = 0
        if check != 10:
            digits = "".join(map(str, body)) + str(check)
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def bitcoin_address(rng):
    """A P2PKH (version 0) or P2SH (version 5) Base58Check address over random bytes."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    payload = bytes([rng.choice([0, 5])]) + bytes(rng.randrange(256) for _ in range(20))
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def tool_calls(fake, rng, card_numbers, iban_values):
    """JSON tool-call payloads; labels are located in the serialized text."""
    out = []
    for i in range(400):
        kind = i % 4
        if kind == 0:
            values = {"to": ("EMAIL_ADDRESS", fake.email()), "cc": ("EMAIL_ADDRESS", fake.email())}
            payload = {"tool": "send_email", "args": {"to": None, "cc": [None], "subject": fake.sentence()}}
        elif kind == 1:
            values = {"card": ("CREDIT_CARD", rng.choice(card_numbers)), "phone": ("PHONE_NUMBER", f"+1-{rng.choice(US_AREA_CODES)}-{rng.randint(201, 989)}-{rng.randint(1000, 9999)}")}
            payload = {"tool": "charge", "args": {"card": None, "amount": rng.randint(1, 900), "phone": None}}
        elif kind == 2:
            values = {"iban": ("IBAN_CODE", rng.choice(iban_values)), "ip": ("IP_ADDRESS", fake.ipv4())}
            payload = {"tool": "payout", "args": {"iban": None, "memo": fake.sentence(), "client_ip": None}}
        else:
            values = {"url": ("URL", fake.url()), "ssn": ("US_SSN", fake.ssn())}
            payload = {"tool": "lookup", "result": {"profile_url": None, "ssn": None, "rows": rng.randint(0, 99)}}
        text = json.dumps(payload)
        spans = []
        for key, (entity, value) in values.items():
            marker = "null"
            at = text.index(marker)
            quoted = json.dumps(value)
            text = text[:at] + quoted + text[at + len(marker):]
            spans.append({"entity": entity, "start": at + 1, "end": at + 1 + len(value)})
        out.append({"text": text, "spans": sorted(spans, key=lambda s: s["start"]), "group": "json_tool_call"})
    return out


def generate(seed=7):
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    samples = []
    card_numbers = cards(fake, rng)
    for number in card_numbers:
        samples.append(sample(rng.choice(CARD_SENTENCES), group(number, rng), "CREDIT_CARD", "cards"))
        changed = change_one_digit(number, rng)
        assert not luhn_ok(changed)
        samples.append(sample(rng.choice(NEGATIVE_SENTENCES), group(changed, rng), None, "card_negatives"))
    iban_values = ibans()
    for iban in iban_values:
        written = iban if rng.random() < 0.5 else " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        samples.append(sample(rng.choice(IBAN_SENTENCES), written, "IBAN_CODE", "ibans"))
        changed = change_one_digit(iban, rng)
        assert not iban_ok(changed)
        samples.append(sample(rng.choice(NEGATIVE_SENTENCES), changed, None, "iban_negatives"))
    for _ in range(150):
        samples.append(sample("NHS number {} on file.", nhs_number(rng), "UK_NHS", "nhs"))
        samples.append(sample("Send the refund to {} please.", bitcoin_address(rng), "CRYPTO", "crypto"))
        samples.append(sample("Client connected from {}.", fake.ipv6(), "IP_ADDRESS", "ipv6"))
    samples.extend(tool_calls(fake, rng, card_numbers, iban_values))
    return samples


if __name__ == "__main__":
    data = generate()
    print(len(data), "samples")
    print(json.dumps(data[:3], indent=1))
