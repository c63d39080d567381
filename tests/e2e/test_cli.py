"""The command line, run as a user runs it: on the embedded default, in a fresh data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.service.a2p_helpers import complete_registration
from tests.support import free_port

CLI = str(Path(sys.executable).with_name("clienteling-setup"))


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTELING_")}
    env["CLIENTELING_DATA_DIR"] = str(data_dir)
    env["CLIENTELING_SYNC_INTERVAL_SECONDS"] = "0"
    return env


def run(data_dir: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [CLI, *args], env=_env(data_dir), capture_output=True, text=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["token"],
        ["stores", "import"],
        ["numbers", "orphans"],
        ["migrate"],
        ["sync"],
        ["twilio-emulator"],
    ],
)
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    done = run(tmp_path, *command, "--help")
    assert "Usage: clienteling-setup" in done.stdout
    assert "--help" in done.stdout


def test_import_loads_csv_and_json(tmp_path: Path) -> None:
    csv_file = tmp_path / "stores.csv"
    csv_file.write_text(
        "id,name,country_code,region,locality,postal_code,phone,latitude,longitude\n"
        "nyc,Fifth Avenue,US,NY,New York,10022,+12125550123,40.76,-73.97\n"
        "ber,Potsdamer Platz,de,,Berlin,10785,,,\n"
    )
    done = run(tmp_path, "stores", "import", str(csv_file), "--tenant", "dodici")
    assert "Imported 2 store(s) for tenant 'dodici'." in done.stdout
    json_file = tmp_path / "more.json"
    json_file.write_text(json.dumps([{"id": "par", "name": "Rivoli", "country_code": "GB"}]))
    done = run(tmp_path, "stores", "import", str(json_file), "--tenant", "dodici")
    assert "Imported 1 store(s)" in done.stdout


def test_import_is_all_or_nothing_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,name,country_code,phone\n"
        "ok-1,Good,US,+12125550123\n"
        "bad-1,Bad country,XX,\n"
        "bad-2,Bad phone,US,+4930901820\n"
        "ok-1,Duplicate,US,\n"
        "bad 3,,US,\n"
    )
    done = run(tmp_path, "stores", "import", str(bad), "--tenant", "dodici", ok=False)
    assert done.returncode != 0
    reported = {
        line.split(":", 1)[0]: line for line in done.stderr.splitlines() if line.startswith("line ")
    }
    assert set(reported) == {"line 3", "line 4", "line 5", "line 6"}
    assert "country_code" in reported["line 3"]
    assert "not of the store's country US" in reported["line 4"]
    assert "repeats line 2" in reported["line 5"]
    assert "name" in reported["line 6"]
    assert "4 invalid row(s); nothing was imported." in done.stderr
    # Nothing was written: a correct file afterwards holds only its own rows.
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"id": "only", "name": "Only", "country_code": "US"}]))
    run(tmp_path, "stores", "import", str(good), "--tenant", "dodici")
    import sqlite3

    with sqlite3.connect(tmp_path / "clienteling.db") as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM stores ORDER BY id")]
    assert ids == ["only"]


def _store_ids(data_dir: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(data_dir / "clienteling.db") as conn:
        return [r[0] for r in conn.execute("SELECT id FROM stores ORDER BY id")]


def test_import_streams_a_json_file_of_many_chunks(tmp_path: Path) -> None:
    rows = [
        {"id": f"de-{i:05d}", "name": f"Filiale {i}", "country_code": "DE", "locality": "Köln"}
        for i in range(3_000)
    ]
    big = tmp_path / "stores.json"
    big.write_text("\n  " + json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    assert big.stat().st_size > 4 * 65_536  # read in several chunks
    done = run(tmp_path, "stores", "import", str(big), "--tenant", "dodici")
    assert "Imported 3000 store(s) for tenant 'dodici'." in done.stdout
    assert _store_ids(tmp_path) == [r["id"] for r in rows]


def test_import_reports_problems_past_the_first_chunk_and_writes_nothing(tmp_path: Path) -> None:
    lines = ["id,name,country_code"] + [f"s-{i:05d},Store {i},US" for i in range(2_500)]
    lines[2_400] = "s-02399,Bad,XX"  # line 2,401 of the file
    lines.append("s-00001,Again,US")  # line 2,502 repeats line 3
    bad = tmp_path / "stores.csv"
    bad.write_text("\n".join(lines) + "\n")
    done = run(tmp_path, "stores", "import", str(bad), "--tenant", "dodici", ok=False)
    problems = [line for line in done.stderr.splitlines() if line.startswith("line ")]
    assert len(problems) == 2, done.stderr
    assert problems[0].startswith("line 2401: ")
    assert "country_code" in problems[0]
    assert problems[1] == "line 2502: id 's-00001' repeats line 3."
    assert "2 invalid row(s); nothing was imported." in done.stderr
    assert _store_ids(tmp_path) == []


def test_import_of_broken_json_names_the_row_and_writes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "stores.json"
    broken.write_text('[{"id": "a", "name": "A", "country_code": "US"}, {"id": "b", "name": ')
    done = run(tmp_path, "stores", "import", str(broken), "--tenant", "dodici", ok=False)
    assert "row 2: not valid JSON" in done.stderr
    not_objects = tmp_path / "numbers.json"
    not_objects.write_text('[{"id": "a", "name": "A", "country_code": "US"}, 1]')
    done = run(tmp_path, "stores", "import", str(not_objects), "--tenant", "dodici", ok=False)
    assert "top-level array of objects" in done.stderr
    empty = tmp_path / "empty.json"
    empty.write_text(" [ ] ")
    assert (
        "Imported 0 store(s)"
        in run(tmp_path, "stores", "import", str(empty), "--tenant", "t").stdout
    )
    assert _store_ids(tmp_path) == []


def test_import_rejects_other_file_types(tmp_path: Path) -> None:
    other = tmp_path / "stores.txt"
    other.write_text("x")
    done = run(tmp_path, "stores", "import", str(other), "--tenant", "dodici", ok=False)
    assert ".csv or .json" in done.stderr


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path) as base:
        yield base


@contextmanager
def serving(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")  # a file: a full pipe would block the server
    proc = subprocess.Popen(
        [CLI, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        log.close()
    assert f"Clienteling Setup API on {base}" in out
    assert f"{base}/docs" in out
    assert "clienteling-setup token --tenant" in out


def test_serve_embedded_default_end_to_end(tmp_path: Path, embedded_server: str) -> None:
    """The README's first session: token, import, enable, onboard, status."""
    token = run(tmp_path, "token", "--tenant", "dodici").stdout.strip()
    stores = tmp_path / "stores.csv"
    stores.write_text(
        "id,name,country_code,region,postal_code,phone\nnyc,Fifth,US,NY,10022,+12125550123\n"
    )
    run(tmp_path, "stores", "import", str(stores), "--tenant", "dodici")
    headers = {"Authorization": f"Bearer {token}", "Tenant": "dodici"}
    with httpx.Client(base_url=embedded_server, headers=headers, timeout=30) as client:
        enabled = client.post("/clienteling/configuration", json={"ecom_link": "https://d.example"})
        assert enabled.status_code == 201, enabled.text
        assert (
            client.put("/clienteling/opt-in-template", json={"body": "Reply YES"}).status_code
            == 201
        )
        numbers = client.get("/clienteling/stores/nyc/available-phone-numbers").json()
        onboarded = client.post(
            "/clienteling/stores/nyc/onboard", json={"phone_number": numbers[0]["phone_number"]}
        )
        assert onboarded.status_code == 201, onboarded.text
        # The US store sends once its Messaging Service has a verified A2P 10DLC campaign.
        assert client.get("/clienteling/onboarding-status").json()["onboarded"] is False
        complete_registration(client, None)  # the embedded reviews take seconds
        status = client.get("/clienteling/onboarding-status").json()
    assert status["onboarded"] is True
    assert status["stores"][0]["phone_number"] == numbers[0]["phone_number"]
    # The secrets the embedded default generated stay in its data folder, owner-only.
    for key in ("signing.key", "encryption.key"):
        assert (tmp_path / key).stat().st_mode & 0o077 == 0


def test_token_is_refused_where_no_signing_key_is_held(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["CLIENTELING_JWT__ALGORITHM"] = "RS256"
    done = subprocess.run(
        [CLI, "token", "--tenant", "dodici"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "holds no signing key" in done.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    done = run(tmp_path, "migrate")
    assert "Database is up to date." in done.stdout
    assert (tmp_path / "clienteling.db").exists()


def test_the_embedded_default_survives_a_restart(tmp_path: Path) -> None:
    """Tenants recorded in the data folder still find their (emulated) Twilio accounts."""
    token = run(tmp_path, "token", "--tenant", "dodici").stdout.strip()
    stores = tmp_path / "stores.csv"
    stores.write_text("id,name,country_code,region\nnyc,Fifth,US,NY\n")
    run(tmp_path, "stores", "import", str(stores), "--tenant", "dodici")
    headers = {"Authorization": f"Bearer {token}", "Tenant": "dodici"}
    with serving(tmp_path) as base, httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        assert (
            c.post(
                "/clienteling/configuration", json={"ecom_link": "https://d.example"}
            ).status_code
            == 201
        )
        number = c.get("/clienteling/stores/nyc/available-phone-numbers").json()[0]["phone_number"]
        assert (
            c.post("/clienteling/stores/nyc/onboard", json={"phone_number": number}).status_code
            == 201
        )
    with serving(tmp_path) as base, httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        again = c.post("/clienteling/stores/nyc/onboard", json={"phone_number": number})
        assert again.status_code == 200, again.text
        assert c.get("/clienteling/stores/nyc/addresses").status_code == 200
        offered = [
            n["phone_number"]
            for n in c.get("/clienteling/stores/nyc/available-phone-numbers").json()
        ]
    assert number not in offered
