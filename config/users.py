"""The dashboard's users: one TOML file of names, roles and argon2 password hashes.

```toml
[users.wangli]
role = "officer"          # viewer | officer | admin
name = "王丽"              # shown in the audit trail beside the login name
password = "$argon2id$v=19$m=65536,t=3,p=4$..."
```

``floodwatch users add|passwd|remove`` edits it; a hand-edited file is validated at start-up like
the settings (file, line, fix). Only the hash is stored; a changed password or role takes effect at
the user's next request (the dashboard re-reads the file when it changes).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.errors import ConfigError, toml_error_line

Role = Literal["viewer", "officer", "admin"]
ROLES: Final[tuple[str, ...]] = get_args(Role)
#: a role may do what the roles before it may
RANK: Final[dict[str, int]] = {role: rank for rank, role in enumerate(ROLES)}
USER_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MIN_PASSWORD: Final = 10
#: argon2id with the library's defaults (RFC 9106's second recommended option)
_HASHER: Final = PasswordHasher()


@dataclass(frozen=True)
class User:
    """One user of the dashboard."""

    login: str
    role: Role
    name: str
    password_hash: str

    def may(self, role: str) -> bool:
        """Whether this user has ``role`` or a higher one."""
        return RANK[self.role] >= RANK[role]

    @property
    def label(self) -> str:
        """``name (login)``, or the login alone: what the audit trail records."""
        return f"{self.name} ({self.login})" if self.name and self.name != self.login else self.login


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``.

    Raises:
        ValueError: shorter than ``MIN_PASSWORD`` characters.
    """
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; as slow for an unknown user as for a known one."""
    try:
        return _HASHER.verify(user.password_hash if user else _dummy_hash(), password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that a wrong name costs as long as a wrong password."""
    return _HASHER.hash("floodwatch-no-such-user")


def load_users(path: Path) -> dict[str, User]:
    """The users of ``path`` by login (no file: no users).

    Raises:
        ConfigError: unreadable, not TOML, or a user entry that is wrong (with its line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the users file ({exc})", path=path, hint="check dashboard.users_file") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"not valid TOML: {exc}",
            path=path,
            line=toml_error_line(str(exc)),
            hint="fix the syntax, or recreate it with `floodwatch users add`",
        ) from exc
    unknown = set(data) - {"users"}
    if unknown or not isinstance(data.get("users", {}), dict):
        raise ConfigError(
            "expected only [users.LOGIN] tables", path=path, line=1, hint="see `floodwatch users --help` for the format"
        )
    users: dict[str, User] = {}
    for login, entry in data.get("users", {}).items():
        line = _line_of(text, login)
        if not USER_NAME.match(login):
            raise ConfigError(
                f"{login!r} is not a login name", path=path, line=line, hint="use a-z, 0-9, _ . - (at most 64)"
            )
        if not isinstance(entry, dict) or set(entry) - {"role", "name", "password"}:
            raise ConfigError(
                "a user has only role, name and password", path=path, line=line, key=f"users.{login}", hint=_FORMAT
            )
        role, name, password = entry.get("role"), entry.get("name", ""), entry.get("password")
        if role not in ROLES:
            raise ConfigError(
                f"role {role!r} is not one of {', '.join(ROLES)}", path=path, line=line, key=f"users.{login}.role"
            )
        if not isinstance(password, str) or not password.startswith("$argon2"):
            raise ConfigError(
                "password must be an argon2 hash",
                path=path,
                line=line,
                key=f"users.{login}.password",
                hint=f"set it with `floodwatch users passwd {login}` (never write a password in the file)",
            )
        if not isinstance(name, str):
            raise ConfigError("name must be a string", path=path, line=line, key=f"users.{login}.name")
        users[login] = User(login, role, name, password)
    return users


def save_users(path: Path, users: dict[str, User]) -> None:
    """Write ``users`` to ``path`` atomically (fsynced, then renamed), readable by its owner only."""
    lines = ["# floodwatch dashboard users: edit with `floodwatch users add|passwd|remove`", ""]
    for user in sorted(users.values(), key=lambda u: u.login):
        lines += [
            f"[users.{_toml_string(user.login)}]",  # quoted: a bare wang.li would be a table li in wang
            f"role = {_toml_string(user.role)}",
            f"name = {_toml_string(user.name)}",
            f"password = {_toml_string(user.password_hash)}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # the mode of O_CREAT does not apply to a temporary file left over
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's spelling, which escapes all control characters but DEL (TOML forbids it)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


_FORMAT = 'e.g. [users.wangli] role = "officer", name = "王丽", password = "$argon2id$..."'


def _line_of(text: str, login: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        # [users.LOGIN] or [users."LOGIN"], or a dotted [users.wang.li] (a table li inside wang)
        if re.match(rf"^\s*\[\s*users\.\"?{re.escape(login)}\"?\s*[].]", line):
            return number
    return None
