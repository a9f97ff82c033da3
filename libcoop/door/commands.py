"""``libcoop serve`` and ``libcoop users ...``: added to the libcoop command by ``add_commands``.

The web stack is imported only when these commands run, never for ``libcoop run``."""

from __future__ import annotations

import argparse
import getpass
import sys

DEFAULT_PORT = 8000


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = commands.add_parser(
        "serve",
        help="start the coordinators' door (the web application)",
        description="Serve the coordinators' door with uvicorn. It needs LIBCOOP_DOOR_SECRET_KEY; "
        "accounts are made with 'libcoop users add'.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    serve.set_defaults(handler=_serve)

    users = commands.add_parser(
        "users",
        help="add, list or remove the door's accounts",
        description="The door's accounts, in its store (LIBCOOP_DOOR_DIR, else door/ beside the warehouse).",
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="add an account; the password is read from standard input",
        description="Add an account. The password (12 characters or more) is read from standard input: "
        'echo "$PASSWORD" | libcoop users add ... (asked twice when standard input is a terminal).',
    )
    add.add_argument("email")
    add.add_argument(
        "--country", action="append", default=[], metavar="CC", help="a country of the coordinator (repeat for several)"
    )
    add.add_argument("--curator", action="store_true", help="a curator: sees every country, decides on proposed names")
    add.set_defaults(handler=_users_add)
    listing = actions.add_parser("list", help="list the accounts")
    listing.set_defaults(handler=_users_list)
    remove = actions.add_parser("remove", help="remove an account")
    remove.add_argument("email")
    remove.set_defaults(handler=_users_remove)


def _store():  # type: ignore[no-untyped-def]
    from libcoop.door.store import Store
    from libcoop.settings import door_dir

    return Store(door_dir())


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("libcoop users add: the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _users_add(args: argparse.Namespace) -> int:
    from libcoop.door.store import StoreError
    from libcoop.ingest.drop_folder import is_country_code

    bad = [c for c in args.country if not is_country_code(c)]
    if bad:
        print(f"libcoop users add: not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}", file=sys.stderr)
        return 1
    try:
        user = _store().add_user(args.email, _read_password(), args.country, curator=args.curator)
    except StoreError as error:
        print(f"libcoop users add: {error}", file=sys.stderr)
        return 1
    role = "curator" if user.is_curator else "coordinator"
    print(f"added {user.email}: {role} of {', '.join(user.countries) or 'every country'}")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    for user in _store().users():
        role = "curator" if user.is_curator else "coordinator"
        print(f"{user.email}\t{role}\t{','.join(user.countries)}")
    return 0


def _users_remove(args: argparse.Namespace) -> int:
    if not _store().remove_user(args.email):
        print(f"libcoop users remove: no account {args.email}", file=sys.stderr)
        return 1
    print(f"removed {args.email}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from libcoop.door.app import create_app
    from libcoop.door.config import DoorMisconfigured, DoorSettings

    try:
        settings = DoorSettings.from_env()
    except DoorMisconfigured as error:
        print(f"libcoop serve: {error}", file=sys.stderr)
        return 1
    print(f"libcoop door: http://{args.host}:{args.port}/ (drop folder {settings.incoming}, store {settings.door_dir})")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", server_header=False)
    return 0
