"""The dashboard's users file (config.users), its re-reading by the dashboard, and `floodwatch users`."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.users import User, hash_password, load_users, save_users, verify_password
from dashboard.auth import UserStore

PASSWORD = "s3cret-password"


@pytest.fixture(scope="module")
def a_hash() -> str:
    """One argon2id hash of PASSWORD (each costs ~0.1 s)."""
    return hash_password(PASSWORD)


GOOD = '[users.ann]\nrole = "viewer"\nname = "Ann"\npassword = "{hash}"\n\n'


@pytest.mark.parametrize(
    "case",
    [
        ("[users.bob]\nrole = officer\n", 7, None, "not valid TOML"),
        ('[users.bob]\nrole = "chief"\npassword = "{hash}"\n', 6, "users.bob.role", "role 'chief' is not one of"),
        ('[users.bob]\nrole = "viewer"\npassword = "hunter2-hunter2"\n', 6, "users.bob.password", "argon2 hash"),
        ('[users.bob]\nrole = "viewer"\npassword = "{hash}"\nemail = "b@x"\n', 6, "users.bob", "only role, name"),
        ('[users.bob]\nrole = "viewer"\nname = 5\npassword = "{hash}"\n', 6, "users.bob.name", "name must be"),
        ('[users."Bob Li"]\nrole = "viewer"\npassword = "{hash}"\n', 6, None, "is not a login name"),
        ('[users.bob.li]\nrole = "viewer"\npassword = "{hash}"\n', 6, "users.bob", "only role, name"),
        ('[people.bob]\nrole = "viewer"\n', 1, None, "expected only [users.LOGIN] tables"),
    ],
)
def test_a_wrong_users_file_names_its_file_line_and_key(
    tmp_path: Path, a_hash: str, case: tuple[str, int, str | None, str]
) -> None:
    """Each kind of mistake in a hand-edited users file is a ConfigError with the file, the line and the key."""
    bad, line, key, message = case
    path = tmp_path / "users.toml"
    path.write_text(GOOD.format(hash=a_hash) + bad.format(hash=a_hash), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_users(path)
    error = info.value
    assert (error.path, error.line, error.key) == (path, line, key)
    assert message in error.message
    assert a_hash not in str(error)


def test_save_then_load_gives_the_same_users(tmp_path: Path, a_hash: str) -> None:
    """Logins with dots and dashes and names with quotes, backslashes and control characters survive the file."""
    users = {
        "wang.li": User("wang.li", "officer", "王丽", a_hash),
        "a-b_c.9": User("a-b_c.9", "admin", 'O"Brien \\ the <admin>', a_hash),
        "tab": User("tab", "viewer", "tab\there\nnew line \x7f del \x01", a_hash),
        "plain": User("plain", "viewer", "", a_hash),
    }
    path = tmp_path / "sub" / "users.toml"
    save_users(path, users)
    assert load_users(path) == users


def test_the_users_file_is_private_even_over_a_leftover_temporary_file(tmp_path: Path, a_hash: str) -> None:
    """save_users leaves a 0600 file (a world-readable temporary file left by a crash does not leak its mode)."""
    path = tmp_path / "users.toml"
    leftover = tmp_path / "users.toml.tmp"
    leftover.write_text("old")
    leftover.chmod(0o644)
    save_users(path, {"ann": User("ann", "viewer", "", a_hash)})
    assert path.stat().st_mode & 0o777 == 0o600
    assert not leftover.exists()


def test_no_users_file_means_no_users(tmp_path: Path) -> None:
    """A missing users file is no users (nobody can log in), not an error."""
    assert load_users(tmp_path / "none.toml") == {}


def test_verify_password(a_hash: str) -> None:
    """Only the right password verifies; an unknown user or a corrupt hash is simply False."""
    user = User("ann", "viewer", "", a_hash)
    assert verify_password(user, PASSWORD) is True
    assert verify_password(user, PASSWORD + "x") is False
    assert verify_password(user, "") is False
    assert verify_password(None, PASSWORD) is False
    assert verify_password(User("ann", "viewer", "", "$argon2id$v=19$m=65536,t=3,p=4$broken"), PASSWORD) is False


def test_passwords_are_argon2id_and_at_least_ten_characters() -> None:
    """hash_password makes an argon2id hash and refuses short passwords."""
    assert hash_password("0123456789").startswith("$argon2id$")
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short")


def test_roles_rank_viewer_officer_admin(a_hash: str) -> None:
    """An admin may do what an officer may, an officer what a viewer may, never the other way."""
    officer = User("wangli", "officer", "王丽", a_hash)
    assert (officer.may("viewer"), officer.may("officer"), officer.may("admin")) == (True, True, False)
    assert officer.label == "王丽 (wangli)"
    assert User("x", "viewer", "", a_hash).label == "x"


def test_the_dashboard_rereads_the_file_and_a_broken_one_logs_nobody_in(
    tmp_path: Path, a_hash: str, caplog: pytest.LogCaptureFixture
) -> None:
    """UserStore follows the file; a file broken while running logs its error once and lets nobody in until fixed."""
    path = tmp_path / "users.toml"
    save_users(path, {"ann": User("ann", "viewer", "", a_hash)})
    store = UserStore(path)
    assert store.get("ann") is not None
    save_users(path, {"ann": User("ann", "admin", "", a_hash)})  # same size, another inode
    user = store.get("ann")
    assert user is not None
    assert user.role == "admin"
    path.write_text("[users.ann\n")
    with caplog.at_level(logging.ERROR, logger="dashboard.auth"):
        assert store.get("ann") is None
        assert store.get("ann") is None
    assert len([r for r in caplog.records if "nobody can log in" in r.getMessage()]) == 1
    with pytest.raises(ConfigError):
        UserStore(path).current(strict=True)
    save_users(path, {"ann": User("ann", "viewer", "", a_hash)})
    assert store.get("ann") is not None


# -- floodwatch users ----------------------------------------------------------------------------------


def users_cmd(tmp_path: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `floodwatch users ARGS` with settings in ``tmp_path`` (``password`` on standard input)."""
    config = tmp_path / "floodwatch.toml"
    if not config.exists():
        config.write_text(f'var_dir = "{tmp_path / "var"}"\n')
    return subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(config), "users", *args],
        input="" if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_users_add_list_passwd_remove(tmp_path: Path) -> None:
    """add (password from stdin), list, passwd with a new role, remove: the file follows, no password is shown."""
    path = tmp_path / "var" / "users.toml"
    empty = users_cmd(tmp_path, "list")
    assert empty.returncode == 0
    assert "no users" in empty.stdout
    added = users_cmd(
        tmp_path, "add", "wang.li", "--role", "officer", "--name", "王丽", "--password-stdin", password=PASSWORD
    )
    assert added.returncode == 0, added.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    user = load_users(path)["wang.li"]
    assert (user.role, user.name) == ("officer", "王丽")
    assert verify_password(user, PASSWORD)
    listing = users_cmd(tmp_path, "list")
    assert "wang.li" in listing.stdout
    assert "officer" in listing.stdout
    assert "王丽" in listing.stdout
    changed = users_cmd(tmp_path, "passwd", "wang.li", "--role", "admin", "--password-stdin", password="another-pw-123")
    assert changed.returncode == 0, changed.stderr
    user = load_users(path)["wang.li"]
    assert user.role == "admin"
    assert verify_password(user, "another-pw-123")
    assert not verify_password(user, PASSWORD)
    assert users_cmd(tmp_path, "remove", "wang.li").returncode == 0
    assert load_users(path) == {}
    for result in (added, listing, changed):
        assert PASSWORD not in result.stdout + result.stderr
        assert "another-pw-123" not in result.stdout + result.stderr
    assert PASSWORD not in path.read_text()


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("add", "Ann", "--role", "viewer", "--password-stdin"), PASSWORD, "is not a login name"),
        (("add", "a b", "--role", "viewer", "--password-stdin"), PASSWORD, "is not a login name"),
        (("add", "ann", "--role", "viewer", "--password-stdin"), "short", "at least 10 characters"),
        (("add", "ann", "--role", "viewer", "--password-stdin"), "", "at least 10 characters"),
        (("add", "ann", "--role", "viewer", "--name", "bell\x07", "--password-stdin"), PASSWORD, "printable"),
        (("add", "old", "--role", "viewer", "--password-stdin"), PASSWORD, "old exists"),
        (("passwd", "nobody", "--password-stdin"), PASSWORD, "no user 'nobody'"),
        (("remove", "nobody"), None, "no user 'nobody'"),
    ],
)
def test_users_refuses_wrong_input_and_changes_nothing(
    tmp_path: Path, a_hash: str, args: tuple[str, ...], password: str | None, message: str
) -> None:
    """A wrong name, password or login exits 2 with one message, no traceback, and leaves the file as it was."""
    path = tmp_path / "var" / "users.toml"
    save_users(path, {"old": User("old", "viewer", "", a_hash)})
    before = path.read_bytes()
    result = users_cmd(tmp_path, *args, password=password)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before


def test_users_reports_a_broken_file_with_its_line(tmp_path: Path) -> None:
    """`floodwatch users list` on a broken users file names the file and the line, without a traceback."""
    path = tmp_path / "var" / "users.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[users.ann]\nrole = "viewer"\npassword = "plain-text-password"\n')
    result = users_cmd(tmp_path, "list")
    assert result.returncode == 2
    assert f"{path}:1: users.ann.password: password must be an argon2 hash" in result.stderr
    assert "plain-text-password" not in result.stderr
    assert "Traceback" not in result.stderr
