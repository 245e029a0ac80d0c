"""Phone numbers: everything is stored and compared in E.164.

A phone is accepted only when it is written as a number: digits, with the usual separators (spaces,
`-`, `.`, `(` `)`) and a leading `+` or `00`. phonenumbers alone reads vanity letters as keypad digits
("1-800-FLOWERS"), and a campaign tool must never guess a recipient, so anything else is refused first.

phonenumbers is imported by the first call, not with this module: it costs a cold start ~15 ms and the
functions that import this module mostly never read a phone (the events function, only for an incoming
opt-out).
"""

from __future__ import annotations

import re
import unicodedata

from wacast.domain.errors import ValidationFailed

#: Digits and separators only, with at most one leading `+` (or `00`, handled as `+`).
WRITTEN_AS_A_NUMBER = re.compile(r"\+?[0-9(][0-9 .()\-]*")
#: Spreadsheets write no-break and thin spaces between digit groups.
SPACES = str.maketrans({"\u00a0": " ", "\u2009": " ", "\u202f": " "})


def normalise_phone(raw: str | int, default_country: str | None = None, *, field: str = "phone") -> str:
    """E.164 form of `raw` ('+919876543210'), read with `default_country` when it has no '+' prefix.
    A number (JavaScript clients send phones as numbers) is read as its digits.

    Raises ValidationFailed naming `field` when it is not written as a number, or is not a possible,
    valid number.
    """
    text = raw if isinstance(raw, str) else "" if isinstance(raw, bool) else str(raw)
    # any script's decimal digits (Arabic-Indic, Devanagari...) are digits; letters never are
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text.translate(SPACES)).strip()
    if not text:
        raise ValidationFailed("a phone number is required", field=field)
    if not WRITTEN_AS_A_NUMBER.fullmatch(text):
        raise ValidationFailed(
            f"not a phone number: {raw!r} (digits only, with spaces, -, ., () and a leading + or 00)", field=field
        )
    if text.startswith("00"):
        text = "+" + text[2:]
    import phonenumbers

    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else (default_country or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"not a phone number: {raw!r}", field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"not a valid phone number: {raw!r}", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_region(code: str, *, field: str = "default_country") -> str:
    """The upper-case ISO 3166 alpha-2 code `code`, if phone numbers of that region can be read."""
    import phonenumbers

    region = (code or "").strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed(f"not a country code: {code!r} (use ISO 3166 alpha-2, e.g. IN)", field=field)
    return region


def time_zone_of(e164: str | None) -> str:
    """The time zone of a number's region (the first one phonenumbers names), or UTC when it names none."""
    if not e164:
        return "UTC"
    import phonenumbers
    from phonenumbers import timezone

    try:
        zones = timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return "UTC"
    return next((z for z in zones if "/" in z and not z.startswith("Etc/")), "UTC")
