"""The settings of an account: the default country of phone numbers and the stop keywords."""

from __future__ import annotations

from pydantic import BaseModel, Field

from wacast.domain.accounts import AccountSettings, Principal
from wacast.domain.errors import Forbidden, NotFound, ValidationFailed
from wacast.domain.optout import DEFAULT_STOP_KEYWORDS, fold_keyword
from wacast.domain.phones import check_region
from wacast.ports import AccountRepository

MAX_KEYWORDS = 100
MAX_KEYWORD = 40


class SettingsChanges(BaseModel):
    """A PATCH of the settings: only the fields given change; `stop_keywords: null` restores the defaults."""

    default_country: str | None = Field(default=None, min_length=2, max_length=2, description="ISO 3166 alpha-2")
    stop_keywords: list[str] | None = Field(default=None, max_length=MAX_KEYWORDS)


def effective_stop_keywords(settings: AccountSettings) -> list[str]:
    return list(settings.stop_keywords or DEFAULT_STOP_KEYWORDS)


class AccountService:
    """Reads and changes an account's settings (owners and admins change them)."""

    def __init__(self, accounts: AccountRepository) -> None:
        self.accounts = accounts

    def settings(self, principal: Principal) -> AccountSettings:
        account = self.accounts.get(principal.account_id)
        if account is None:
            raise NotFound("account not found")
        return account.settings

    def update_settings(self, principal: Principal, changes: SettingsChanges) -> AccountSettings:
        if not principal.can_manage:
            raise Forbidden("only owners and admins change the account's settings")
        settings = self.settings(principal)
        update: dict[str, object] = {}
        if "default_country" in changes.model_fields_set:
            update["default_country"] = check_region(changes.default_country or "", field="default_country")
        if "stop_keywords" in changes.model_fields_set:
            update["stop_keywords"] = _keywords(changes.stop_keywords)
        settings = settings.model_copy(update=update)
        self.accounts.save_settings(principal.account_id, settings)
        return settings


def _keywords(keywords: list[str] | None) -> list[str] | None:
    """Trimmed, each once (case and accents aside); None restores the defaults."""
    if keywords is None:
        return None
    by_fold: dict[str, str] = {}
    for keyword in keywords:
        text = " ".join(keyword.split())
        if not fold_keyword(text) or len(text) > MAX_KEYWORD:
            raise ValidationFailed(
                f"not a stop keyword: {keyword[:50]!r} (1 to {MAX_KEYWORD} characters)", field="stop_keywords"
            )
        by_fold.setdefault(fold_keyword(text), text)
    if not by_fold:
        raise ValidationFailed("give at least one stop keyword, or null for the defaults", field="stop_keywords")
    return list(by_fold.values())
