"""Phone numbers: everything is stored and compared in E.164."""

from __future__ import annotations

import phonenumbers

from wacast.domain.errors import ValidationFailed


def normalise_phone(raw: str, default_country: str | None = None, *, field: str = "phone") -> str:
    """E.164 form of `raw` ('+919876543210'), read with `default_country` when it has no '+' prefix.

    Raises ValidationFailed naming `field` when it is not a possible, valid number.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationFailed("a phone number is required", field=field)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else (default_country or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"not a phone number: {raw!r}", field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"not a valid phone number: {raw!r}", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_region(code: str, *, field: str = "default_country") -> str:
    """The upper-case ISO 3166 alpha-2 code `code`, if phone numbers of that region can be read."""
    region = (code or "").strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed(f"not a country code: {code!r} (use ISO 3166 alpha-2, e.g. IN)", field=field)
    return region
