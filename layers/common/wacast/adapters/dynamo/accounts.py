"""Accounts and users.

account: pk ACCT#{account}, sk ACCT.
user:    pk USER#{email},   sk USER;  gsi1 ACCT#{account} / USER#{user} (a user by id, an account's users).
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from wacast.adapters.dynamo.attributes import PydanticAttribute
from wacast.adapters.dynamo.table import Gsi1, TableModel, is_condition_failure
from wacast.domain.accounts import Account, AccountSettings, Role, User
from wacast.domain.errors import Conflict, NotFound, Unavailable


class AccountModel(TableModel):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    settings = PydanticAttribute(AccountSettings, default=AccountSettings, attr_name="settings_json")
    default_sender_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class UserModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_account = Gsi1()


def _account_model(account: Account) -> AccountModel:
    return AccountModel(
        f"ACCT#{account.id}",
        "ACCT",
        id=account.id,
        name=account.name,
        settings=account.settings,
        default_sender_id=account.default_sender_id,
        created_at=account.created_at,
    )


def _account(model: AccountModel) -> Account:
    return Account(
        id=model.id,
        name=model.name,
        settings=model.settings,
        default_sender_id=model.default_sender_id,
        created_at=model.created_at,
    )


def _user(model: UserModel) -> User:
    return User(
        id=model.id,
        account_id=model.account_id,
        email=model.email,
        name=model.name or "",
        role=Role(model.role),
        password_hash=model.password_hash,
        created_at=model.created_at,
    )


def user_model(user: User) -> UserModel:
    return UserModel(
        f"USER#{user.email}",
        "USER",
        id=user.id,
        account_id=user.account_id,
        email=user.email,
        name=user.name or None,
        role=user.role.value,
        password_hash=user.password_hash,
        created_at=user.created_at,
        gsi1pk=f"ACCT#{user.account_id}",
        gsi1sk=f"USER#{user.id}",
    )


class DynamoAccountRepository:
    """Accounts and their users in DynamoDB."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    def create_with_owner(self, account: Account, owner: User) -> None:
        conn = self._connection or AccountModel._get_connection().connection
        try:
            with TransactWrite(connection=conn) as tx:
                tx.save(_account_model(account), condition=AccountModel.pk.does_not_exist())
                tx.save(user_model(owner), condition=UserModel.pk.does_not_exist())
        except TransactWriteError as exc:
            codes = [getattr(r, "code", None) for r in exc.cancellation_reasons]
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise Conflict("this email is already registered", details={"field": "email"}) from exc
            raise Unavailable("could not create the account") from exc

    def add_user(self, user: User) -> None:
        try:
            user_model(user).save(condition=UserModel.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("this email is already registered", details={"field": "email"}) from exc
            raise Unavailable("could not create the user") from exc

    def get(self, account_id: str) -> Account | None:
        try:
            return _account(AccountModel.get(f"ACCT#{account_id}", "ACCT"))
        except AccountModel.DoesNotExist:
            return None

    def save(self, account: Account) -> None:
        _account_model(account).save()

    def save_settings(self, account_id: str, settings: AccountSettings) -> None:
        """Write only the settings attribute, so it never overwrites a concurrent change of another one."""
        try:
            AccountModel(f"ACCT#{account_id}", "ACCT").update(
                actions=[AccountModel.settings.set(settings)],
                condition=AccountModel.pk.exists(),
            )
        except UpdateError as exc:
            if is_condition_failure(exc):
                raise NotFound("account not found") from exc
            raise Unavailable("could not save the settings") from exc

    def get_user_by_email(self, email: str) -> User | None:
        try:
            return _user(UserModel.get(f"USER#{email}", "USER", consistent_read=True))
        except UserModel.DoesNotExist:
            return None

    def get_user(self, account_id: str, user_id: str) -> User | None:
        for model in UserModel.by_account.query(f"ACCT#{account_id}", UserModel.gsi1sk == f"USER#{user_id}"):
            return _user(model)
        return None
