"""Hardening of log import (issue 18): a header longer than 1 MiB is read whole, a symlinked path never
makes an error echo the file it points to and the import records the resolved path, and the work folders
an interrupted import leaves are removed by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from logfiles import MAPPING, csv_text, valid_frame

from signoff.domain.errors import InputError
from signoff.importers.prediction_log import canonicalise_log
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.services.work_folders import work_root
from signoff.storage import open_database


def test_a_header_longer_than_1_mib_is_read_whole(tmp_path):
    """The mapped columns come after 1.2 MiB of other column names: they used to be "not there"."""
    frame = valid_frame(8)
    padding = [f"pad_{i:06d}_{'p' * 100}" for i in range(11_000)]  # 11,000 x ~111 bytes = ~1.2 MiB
    header = ",".join([*padding, *frame.columns]).encode()
    assert len(header) > 1 << 20
    rows = csv_text(frame).split("\n", 1)[1]
    filler = ",".join([""] * len(padding)) + ","
    body = "\n".join(filler + line for line in rows.splitlines() if line).encode() + b"\n"
    path = tmp_path / "wide.csv"
    path.write_bytes(header + b"\n" + body)
    canonical = canonicalise_log(path, MAPPING, work_dir=tmp_path / "work")
    assert canonical.rows == 8


def test_a_link_to_a_non_log_file_is_named_but_its_first_line_is_never_echoed(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n")
    link = tmp_path / "predictions.csv"
    link.symlink_to(secret)
    with pytest.raises(InputError) as refused:
        canonicalise_log(link, MAPPING, work_dir=tmp_path / "work")
    message = str(refused.value)
    assert "saltsalt" not in message and "99999" not in message
    assert "does not look like a header" in message and f"a link to {secret}" in message


def test_an_import_through_a_link_records_the_file_actually_read(tmp_path):
    real = tmp_path / "data" / "log.csv"
    real.parent.mkdir()
    real.write_text(csv_text(valid_frame(8)))
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    with open_database(f"sqlite:///{tmp_path / 'db.sqlite'}") as db:
        add_model_version(db, name="m", version="1", actor="alice")
        imported = import_log(db, link, model="m", version="1", mapping=MAPPING, actor="alice")
        with db.transaction(write=False) as uow:
            (event,) = uow.audit.list(action="log.imported")
    assert imported.log.source_name == "latest.csv"
    assert event.payload["source_path"] == str(real)


def test_the_work_folder_of_a_killed_import_is_removed_by_the_next(tmp_path):
    code = (
        "import time\nfrom signoff.services.work_folders import work_folder\n"
        "with work_folder('import') as folder:\n"
        "    (folder / 'canonical.parquet').write_bytes(b'x' * 1000)\n"
        "    print(folder, flush=True)\n"
        "    time.sleep(60)\n"
    )
    app = Path(__file__).resolve().parents[2] / "app"
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(app)},
    )
    left = Path(child.stdout.readline().strip())
    assert left.parent == work_root() and left.is_dir()
    os.kill(child.pid, signal.SIGKILL)  # an interrupted import: no cleanup runs
    child.wait(timeout=10)
    child.stdout.close()
    assert left.is_dir()
    # The next import cleans up before it starts.
    log = tmp_path / "log.csv"
    log.write_text(csv_text(valid_frame(8)))
    with open_database(f"sqlite:///{tmp_path / 'db.sqlite'}") as db:
        add_model_version(db, name="m", version="1", actor="alice")
        import_log(db, log, model="m", version="1", mapping=MAPPING, actor="alice")
    assert not left.exists()
