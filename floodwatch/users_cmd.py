"""``floodwatch users list|add|passwd|remove``: the dashboard's users file."""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace

from config.settings import Settings
from config.users import MIN_PASSWORD, ROLES, USER_NAME, User, hash_password, load_users, save_users
from floodwatch.args import settings_from
from floodwatch.errors import UserError

#: the longest full name (shown in the audit trail)
MAX_NAME = 100

EPILOG = f"""\
Roles: viewer (sees everything), officer (also acknowledges alerts, writes notes and hands over the
shift), admin (also everything an officer does; reserved for administration). Passwords are asked
twice at the prompt (at least {MIN_PASSWORD} characters), or read from standard input with
--password-stdin; only their argon2id hash is stored, in dashboard.users_file (default
var/users.toml, readable by its owner only). Changes apply at each user's next request.

examples:
  floodwatch users add wangli --role officer --name 王丽
  echo "$PASSWORD" | floodwatch users add screen1 --role viewer --password-stdin
  floodwatch users passwd wangli
  floodwatch users remove wangli
  floodwatch users list
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch users``."""
    parser = subparsers.add_parser(
        "users",
        help="dashboard users and roles",
        description="Manage who may log in to the dashboard and with which role.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the users and their roles")
    listing.set_defaults(func=run_list)
    add = actions.add_parser("add", help="add a user")
    add.add_argument("login", help="login name: a-z, 0-9, _ . - (lower case)")
    add.add_argument("--role", choices=ROLES, required=True, help="what the user may do")
    add.add_argument("--name", default="", help="full name, shown in the audit trail (e.g. 王丽)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=run_add)
    passwd = actions.add_parser("passwd", help="set a user's password (and, with --role, the role)")
    passwd.add_argument("login")
    passwd.add_argument("--role", choices=ROLES, help="also change the role")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(func=run_passwd)
    remove = actions.add_parser("remove", help="remove a user (their sessions end)")
    remove.add_argument("login")
    remove.set_defaults(func=run_remove)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UserError("the two passwords differ; nothing changed")
    try:
        return hash_password(password)
    except ValueError as exc:
        raise UserError(f"{exc}; nothing changed") from exc


def _users(settings: Settings) -> dict[str, User]:
    return load_users(settings.users_file)


def run_list(args: argparse.Namespace) -> int:
    """Print the users."""
    settings = settings_from(args)
    users = _users(settings)
    if not users:
        print(f"no users in {settings.users_file}; add one with `floodwatch users add NAME --role officer`")
    for user in sorted(users.values(), key=lambda u: u.login):
        print(f"{user.login:<20} {user.role:<8} {user.name}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    """Add a user."""
    settings = settings_from(args)
    users = _users(settings)
    login = args.login
    if not USER_NAME.match(login):
        raise UserError(f"{login!r} is not a login name: use a-z, 0-9, _ . - (at most 64, lower case)")
    if login in users:
        raise UserError(f"{login} exists; change the password with `floodwatch users passwd {login}`")
    name = args.name.strip()
    if not name.isprintable() or len(name) > MAX_NAME:
        raise UserError(f"--name must be printable text of at most {MAX_NAME} characters")
    users[login] = User(login, args.role, name, _password(args))
    save_users(settings.users_file, users)
    print(f"added {login} ({args.role}) to {settings.users_file}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    """Set a user's password (and role)."""
    settings = settings_from(args)
    users = _users(settings)
    user = users.get(args.login)
    if user is None:
        raise UserError(f"no user {args.login!r} in {settings.users_file}")
    users[user.login] = replace(user, password_hash=_password(args), role=args.role or user.role)
    save_users(settings.users_file, users)
    print(f"changed {user.login}: their sessions end at their next request")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Remove a user."""
    settings = settings_from(args)
    users = _users(settings)
    if users.pop(args.login, None) is None:
        raise UserError(f"no user {args.login!r} in {settings.users_file}")
    save_users(settings.users_file, users)
    print(f"removed {args.login}")
    return 0
