"""`clienteling-setup stores import` with files and tenants it must refuse, run as a user runs
it, into the test session's SQLite and PostgreSQL databases: each refusal is a clear message
naming the line or row, never a traceback, and nothing is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from clienteling_setup.stores.files import MAX_FILE_BYTES, MAX_JSON_ROW_CHARS
from tests.support import Api

CLI = str(Path(sys.executable).with_name("clienteling-setup"))
HEADER = "id,name,country_code,locality\n"


@dataclass
class Directory:
    """The tenant's store directory, and the command line pointed at its database."""

    api: Api
    database_url: str
    data_dir: Path

    def run_import(self, file: Path, tenant: str = "acme") -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTELING_")}
        env["CLIENTELING_DATA_DIR"] = str(self.data_dir)
        env["CLIENTELING_DATABASE_URL"] = self.database_url
        return subprocess.run(
            [CLI, "stores", "import", str(file), "--tenant", tenant],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def names(self) -> dict[str, str]:
        page = self.api.get("/clienteling/stores", params={"limit": 1000}).json()
        return {s["id"]: s["name"] for s in page["items"]}


@pytest.fixture
def directory(api: Api, database_url: str, tmp_path: Path) -> Directory:
    return Directory(api, database_url, tmp_path)


def _refused(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    return done.stderr


@pytest.mark.parametrize("tenant", ["BAD TENANT/../x", "Acme", "acme\n", "-acme", "a" * 64, ""])
def test_the_tenant_is_checked_like_the_tenant_header(directory: Directory, tenant: str) -> None:
    file = directory.data_dir / "stores.csv"
    file.write_text(HEADER + "s1,One,US,\n")

    _refused(directory.run_import(file, tenant), "not a tenant name", "^[a-z0-9][a-z0-9-]{0,62}$")

    assert directory.names() == {}


def test_a_row_with_more_values_than_the_header_is_refused_with_its_line(
    directory: Directory, tmp_path: Path
) -> None:
    file = tmp_path / "stores.csv"
    file.write_text(HEADER + "s1,One,US,Boston\ns2,Two, Inc.,US,Austin\ns3,Three,US,\n")

    stderr = _refused(directory.run_import(file), "1 invalid row(s); nothing was imported.")

    assert "line 3: has 5 values but the header names 4 columns" in stderr
    assert directory.names() == {}


@pytest.mark.parametrize("suffix", [".csv", ".json"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf-8", "utf-8 with BOM"])
def test_utf8_with_or_without_a_byte_order_mark_is_imported(
    directory: Directory, tmp_path: Path, suffix: str, bom: bytes
) -> None:
    file = tmp_path / f"stores{suffix}"
    if suffix == ".csv":
        text = HEADER + "koeln,Köln Schildergasse,DE,Köln\n"
    else:
        text = json.dumps([{"id": "koeln", "name": "Köln Schildergasse", "country_code": "DE"}])
    file.write_bytes(bom + text.encode())

    done = directory.run_import(file)

    assert done.returncode == 0, done.stderr
    assert directory.names() == {"koeln": "Köln Schildergasse"}


@pytest.mark.parametrize("suffix", [".csv", ".json"])
@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_any_other_encoding_is_a_clear_error_naming_the_line(
    directory: Directory, tmp_path: Path, suffix: str, encoding: str
) -> None:
    file = tmp_path / f"stores{suffix}"
    if suffix == ".csv":
        text = HEADER + "s1,One,US,\nkoeln,Köln,DE,Köln\n"
    else:
        text = '[{"id": "s1", "name": "One", "country_code": "US"},\n{"id": "k", "name": "Köln"}]'
    file.write_bytes(text.encode(encoding))
    # latin-1 is ASCII up to the ö on line 3 (2 for JSON); UTF-16 is not UTF-8 from line 1.
    line = 1 if encoding == "utf-16" else text.count("\n", 0, text.index("ö")) + 1

    _refused(
        directory.run_import(file),
        f"line {line}: the file is not UTF-8",
        "Save it as UTF-8",
        "Nothing was imported.",
    )
    assert directory.names() == {}


def test_deeply_nested_json_is_a_clear_error(directory: Directory, tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text('[{"id": "s1", "name": "One", "country_code": "US"}, ' + "[" * 5000)
    _refused(directory.run_import(nested), "row 2: the JSON nests too deeply")
    top = tmp_path / "top.json"
    top.write_text("[" * 100_000 + "]" * 100_000)
    _refused(directory.run_import(top), "row 1:")
    assert directory.names() == {}


def test_a_row_value_is_plain_not_nested(directory: Directory, tmp_path: Path) -> None:
    file = tmp_path / "stores.json"
    rows = [
        {"id": "s1", "name": "One", "country_code": "US"},
        {"id": "s2", "name": {"en": "Two"}, "country_code": "US"},
        {"id": "s3", "name": "Three", "country_code": "US", "locality": [[["Austin"]]]},
    ]
    file.write_text(json.dumps(rows))

    stderr = _refused(directory.run_import(file), "2 invalid row(s); nothing was imported.")

    assert "row 2: 'name' is a JSON object" in stderr
    assert "row 3: 'locality' is a JSON array" in stderr
    assert directory.names() == {}


def test_a_json_row_larger_than_the_bound_is_a_clear_error(
    directory: Directory, tmp_path: Path
) -> None:
    file = tmp_path / "stores.json"
    huge = "x" * (3 * MAX_JSON_ROW_CHARS)
    file.write_text(json.dumps([{"id": "s1", "name": "One", "country_code": "US", "n": huge}]))

    _refused(directory.run_import(file), f"row 1: longer than {MAX_JSON_ROW_CHARS:,} characters")
    assert directory.names() == {}


def test_a_csv_field_larger_than_the_bound_is_a_clear_error(
    directory: Directory, tmp_path: Path
) -> None:
    file = tmp_path / "stores.csv"
    file.write_text(HEADER + "s1,One,US,\n" + f's2,"{"x" * 200_000}",US,\n')

    _refused(directory.run_import(file), "line 3: not valid CSV", "Nothing was imported.")
    assert directory.names() == {}


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_file_over_the_size_bound_is_refused_before_it_is_read(
    directory: Directory, tmp_path: Path, suffix: str
) -> None:
    file = tmp_path / f"stores{suffix}"
    with file.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space, no time

    _refused(directory.run_import(file), f"at most {MAX_FILE_BYTES:,} are imported at once")


def test_control_characters_in_values_are_refused_with_their_line(
    directory: Directory, tmp_path: Path
) -> None:
    file = tmp_path / "stores.csv"
    file.write_bytes((HEADER + "s1,One,US,\ns2,T\x00wo,US,\ns3,Three,US,Aus\x1btin\n").encode())

    stderr = _refused(directory.run_import(file), "2 invalid row(s); nothing was imported.")

    assert "line 3: 'name': contains a control character (U+0000)" in stderr
    assert "line 4: 'locality': contains a control character (U+001B)" in stderr
    assert directory.names() == {}
