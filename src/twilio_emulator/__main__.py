"""``python -m twilio_emulator [--host H] [--port P]``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse

from .server import run_emulator


def clienteling_environment(base_url: str, account_sid: str, auth_token: str) -> dict[str, str]:
    """The variables that point the clienteling-setup service at this emulator (its settings
    are nested under ``CLIENTELING_TWILIO__``; the service's own `twilio-emulator` command
    derives the same names from its settings, and a test checks they agree)."""
    return {
        "CLIENTELING_TWILIO__API_BASE_URL": base_url,
        "CLIENTELING_TWILIO__ACCOUNT_SID": account_sid,
        "CLIENTELING_TWILIO__AUTH_TOKEN": auth_token,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m twilio_emulator",
        description="Serve the Twilio emulator over HTTP until Ctrl-C; its clock runs in real "
        "time. It prints its base URL and the master account's credentials.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8099, help="port (default: %(default)s)")
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of the number pools, SIDs and default master token (default: %(default)s)",
    )
    parser.add_argument("--account-sid", help="master account SID (default: AC000...0001)")
    parser.add_argument("--auth-token", help="master auth token (default: derived from the seed)")
    args = parser.parse_args(argv)
    run_emulator(
        args.host,
        args.port,
        seed=args.seed,
        master_account_sid=args.account_sid,
        master_auth_token=args.auth_token,
        environment=clienteling_environment,
    )


if __name__ == "__main__":
    main()
