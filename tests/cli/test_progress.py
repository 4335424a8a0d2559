"""Progress of the long commands: a bar with a total, rate and time left on a terminal,
plain periodic lines in a log, and standard output (``--json``) left as it was."""

from __future__ import annotations

import io
import json
import re

from ogcrm.cli._progress import LINE_EVERY, line, meter
from ogcrm.progress import Tick
from tests.cli.test_rules import GOOD, cli  # noqa: F401  (the admin's CLI fixture)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_says_how_far_of_what_how_fast_and_how_long_left():
    tick = Tick(51_200_000, 112_700_000, "bytes", rows=450_000, step="processing")
    assert line("permits.csv", tick, 5.2) == (
        "permits.csv processing [###########-------------]  45%, 51.2 of 112.7 MB, "
        "450,000 rows, 9.8 MB/s, 6 s left"
    )
    assert line("p.xlsx", Tick(300, None, "rows", rows=300), 2.0) == "p.xlsx, 300 rows, 150 rows/s"
    merged = Tick(60_000, 60_000, "rows", rows=60_000, step="merging")
    assert line("dataset #4", merged, 12.0).endswith("60,000 of 60,000 rows, 5,000 rows/s, done")


def test_steps_of_unequal_cost_show_no_made_up_time_left():
    text = line("rescoring", Tick(1, 4, "steps", step="scoring", detail="9 organizations"), 30.0)
    assert text.endswith("25%, step 2 of 4: scoring")
    assert "left" not in text and "/s" not in text


def test_in_a_log_a_line_every_few_seconds_and_the_last_one_always():
    out, clock = io.StringIO(), Clock()
    with meter("f.csv", out=out, tty=False, clock=clock) as progress:
        for done in range(0, 100, 10):  # a tick a second
            progress(Tick(done * 10_000, 1_000_000, "bytes", rows=done, step="processing"))
            clock.now += 1
        clock.now -= 0.5
        progress(Tick(950_000, 1_000_000, "bytes", rows=95, step="processing"))
    lines = out.getvalue().splitlines()
    assert LINE_EVERY == 5.0 and "\r" not in out.getvalue()
    # the first tick, the one LINE_EVERY seconds later, and the newest when it ends
    assert [re.search(r"(\d+)%", text).group(1) for text in lines] == ["0", "50", "95"]
    assert lines[1] == (
        "f.csv processing [############------------]  50%, 0.5 of 1.0 MB, 50 rows, "
        "100.0 kB/s, 5 s left"
    )


def test_on_a_terminal_one_bar_redrawn_in_place_then_a_new_one_per_step():
    out, clock = io.StringIO(), Clock()
    with meter("f.csv", out=out, tty=True, clock=clock) as progress:
        progress(Tick(0, 10, "bytes", step="processing"))
        clock.now += 1
        progress(Tick(10, 10, "bytes", rows=3, step="processing"))
        clock.now += 1
        progress(Tick(0, 3, "rows", step="merging"))
        clock.now += 1
        progress(Tick(3, 3, "rows", rows=3, step="merging"))
    text = out.getvalue()
    bars = text.split("\n")
    assert bars[0].count("\r\x1b[2K") == 2 and "f.csv processing" in bars[0]
    assert bars[1].count("\r\x1b[2K") == 2 and "f.csv merging" in bars[1]
    assert bars[1].endswith("3 of 3 rows, 3 rows/s, done") and bars[2] == ""


def test_import_and_approve_show_bytes_then_rows_merged(cli, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("OGCRM_DATA_DIR", str(tmp_path))
    path = tmp_path / "permits.csv"
    path.write_text(
        "Operator Name,API #\n" + "".join(f"Acme Oil Co.,42-003-{i:05d}\n" for i in range(300))
    )
    imported = cli("import", str(path), "--json")
    assert imported.exit_code == 0, imported.output
    out = json.loads(imported.stdout)  # standard output is the JSON and nothing else
    size = f"{path.stat().st_size / 1e3:.1f} kB"
    assert f"permits.csv processing [{'#' * 24}] 100%, {size[:-3]} of {size}" in imported.stderr
    approved = cli("dataset", "approve", str(out["id"]), "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["state"] == "merged"
    assert f"dataset #{out['id']} merging" in approved.stderr
    assert "300 of 300 rows" in approved.stderr and "done" in approved.stderr


def test_activate_and_rescore_show_their_steps(cli, tmp_path):  # noqa: F811
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(GOOD))
    activated = cli("rules", "activate", str(rules), "--json")
    assert activated.exit_code == 0, activated.output
    assert json.loads(activated.stdout)["organizations"] == 2
    assert "rescoring (2 organizations)" in activated.stderr
    rescored = cli("rescore")
    assert rescored.stdout.startswith("rescored 2 organizations")
    assert rescored.stderr.splitlines()[-1].endswith("100%, 4 steps, done")
