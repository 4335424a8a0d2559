"""The plugin manager: built-ins, third-party distributions by entry point, broken ones."""

from __future__ import annotations

import json
import logging
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from ogcrm.cli import main
from ogcrm.plugins import PluginConflict, build_registry, get_plugin_manager


def _install_distribution(site: Path, dist: str, module: str, source: str) -> None:
    """A real (if minimal) installed distribution: a module plus its dist-info with an
    ``ogcrm`` entry point, on a sys.path entry — what pip leaves in site-packages."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ogcrm]\n{dist} = {module}\n")
    (info / "RECORD").write_text("")


@pytest.fixture
def site(tmp_path: Path, monkeypatch) -> Path:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [m for m in sys.modules if m.startswith("acme_")]:
        del sys.modules[name]


PIPE_READER = """
    from ogcrm import hookimpl
    from ogcrm.pipeline.contracts import Chunk, Reader, Sniff
    import pandas as pd

    class AcmeReader(Reader):
        name = "acme_layout"
        formats = ("acme",)

        @classmethod
        def sniff(cls, head, *, filename=None):
            return Sniff(cls.name, "acme", 0.99, {}) if head.startswith(b"ACME1") else None

        def read(self, path, *, details, chunk_rows=1000, options=None):
            lines = path.read_text().splitlines()[1:]
            yield Chunk(pd.DataFrame({"value": lines}), first_row=2)

    @hookimpl
    def ogcrm_register_readers():
        return [AcmeReader]
"""


def test_built_in_readers_are_registered():
    pm, infos = get_plugin_manager(autoload=False)
    registry = build_registry(pm, infos)
    assert {"delimited", "fixed_width", "json", "xml", "xlsx", "xls", "dbf"} <= set(
        registry.readers
    )
    assert all(info.origin == "builtin" for info in infos)


def test_a_third_party_distribution_is_picked_up_and_used(site: Path, tmp_path: Path):
    _install_distribution(site, "acme-ogcrm", "acme_ogcrm_plugin", PIPE_READER)
    pm, infos = get_plugin_manager()
    registry = build_registry(pm, infos)
    assert registry.readers["acme_layout"].__module__ == "acme_ogcrm_plugin"
    assert ("acme-ogcrm", "acme-ogcrm 1.0") in {(i.name, i.origin) for i in infos}

    from ogcrm.pipeline.detect import read_file

    data = tmp_path / "file.txt"
    data.write_text("ACME1\nalpha\nbeta\n")
    frame = next(read_file(data, registry)).frame
    assert list(frame.value) == ["alpha", "beta"]


SOURCE_PLUGIN = """
    from ogcrm import SourceSpec, hookimpl

    @hookimpl
    def ogcrm_register_sources():
        return [SourceSpec("acme-wells", "Acme wells", "acme", {"api": "API"}, reader="delimited")]
"""


def test_a_source_is_listed_under_the_plugin_that_provides_it(site: Path):
    """A spec is an instance of ogcrm's own dataclass: its module cannot say whose it is
    (it said "unknown" before, and ``ogcrm plugins`` listed it under no plugin)."""
    _install_distribution(site, "acme-src", "acme_src_plugin", SOURCE_PLUGIN)
    registry = build_registry(*get_plugin_manager())
    assert registry.provided_by[("source", "acme-wells")] == "acme-src"
    assert registry.provided_by[("source", "tx-rrc-permits")] == "ogcrm_plugins.sources"


def test_a_broken_plugin_is_reported_by_name_and_does_not_stop_ogcrm(site: Path):
    _install_distribution(
        site, "acme-broken", "acme_broken_plugin", "raise ImportError('needs libfoo 2')\n"
    )
    pm, infos = get_plugin_manager()
    registry = build_registry(pm, infos)
    broken = [i for i in infos if i.name == "acme-broken"]
    assert broken and broken[0].error == "ImportError: needs libfoo 2"
    assert "delimited" in registry.readers


def test_a_duplicate_reader_name_names_both_plugins(site: Path):
    clash = PIPE_READER.replace('name = "acme_layout"', 'name = "delimited"')
    _install_distribution(site, "acme-clash", "acme_clash_plugin", clash)
    pm, infos = get_plugin_manager()
    with pytest.raises(
        PluginConflict,
        match=r"reader 'delimited' is provided by both 'ogcrm_plugins.readers.delimited' and 'acme-clash'",
    ):
        build_registry(pm, infos)


def test_plugins_can_be_blocked(site: Path, monkeypatch):
    _install_distribution(site, "acme-ogcrm", "acme_ogcrm_plugin2", PIPE_READER)
    monkeypatch.setenv("OGCRM_BLOCK_PLUGINS", "acme-ogcrm")
    pm, infos = get_plugin_manager()
    assert "acme_layout" not in build_registry(pm, infos).readers


WRAPPING_PLUGIN = """
    from ogcrm import hookimpl
    from ogcrm.pipeline.contracts import Reader, Sniff

    class WrappedReader(Reader):
        name = "acme_wrapped"
        formats = ("acme",)

        @classmethod
        def sniff(cls, head, filename):
            return Sniff(0.0)

        def read(self, stream, **options):
            return iter(())

    SEEN = []

    @hookimpl(wrapper=True)
    def ogcrm_register_readers():
        results = yield
        SEEN.append(len(results))
        return [*results, [WrappedReader]]
"""


def test_a_plugins_hookwrapper_sees_and_changes_the_result(site: Path):
    _install_distribution(site, "acme-wrap", "acme_wrap_plugin", WRAPPING_PLUGIN)
    pm, infos = get_plugin_manager()
    registry = build_registry(pm, infos)
    import acme_wrap_plugin

    assert acme_wrap_plugin.SEEN and acme_wrap_plugin.SEEN[0] >= 6  # every built-in's list
    assert "acme_wrapped" in registry.readers and "delimited" in registry.readers
    assert registry.provided_by[("reader", "acme_wrapped")] == "acme-wrap"


def test_hook_calls_are_traced_when_asked(monkeypatch, caplog):
    monkeypatch.setenv("OGCRM_TRACE_PLUGINS", "1")
    pm, infos = get_plugin_manager(autoload=False)
    with caplog.at_level(logging.DEBUG, logger="ogcrm.plugins"):
        build_registry(pm, infos)
    traced = "".join(r.getMessage() for r in caplog.records if r.name == "ogcrm.plugins")
    for hook in ("ogcrm_register_readers", "ogcrm_register_cleaners", "ogcrm_register_sources"):
        assert hook in traced


def test_hooks_are_documented():
    from ogcrm import hookspecs

    hooks = [name for name in dir(hookspecs) if name.startswith("ogcrm_")]
    assert hooks == [
        "ogcrm_register_cleaners",
        "ogcrm_register_notifiers",
        "ogcrm_register_readers",
        "ogcrm_register_scorers",
        "ogcrm_register_sources",
    ]
    for name in hooks:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Called" in doc and "Must not" in doc, name


class TestCli:
    def test_plugins_command_lists_what_is_loaded(self):
        result = CliRunner().invoke(main, ["plugins", "--json"])
        assert result.exit_code == 0, result.output
        rows = {r["plugin"]: r for r in json.loads(result.output)}
        assert rows["ogcrm_plugins.readers.spreadsheet"]["provides"] == [
            "reader:xls",
            "reader:xlsx",
        ]

    def test_sniff_json(self, shared_data: Path):
        path = shared_data / "real" / "boem-ogor-a-production-2025.delimited.txt"
        result = CliRunner().invoke(main, ["sniff", str(path), "--json", "--rows", "2"])
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert (out["format"], out["encoding"], out["details"]["delimiter"]) == (
            "csv",
            "utf-8",
            ",",
        )
        assert len(out["columns"]) == 19 and len(out["preview"]) == 2
        assert out["preview"][0]["column_13"] == "ARRAY PETROLEUM LLC"

    def test_sniff_unreadable_file_exits_non_zero_with_the_reason(self, tmp_path: Path):
        bad = tmp_path / "broken.csv"
        bad.write_text('a,b\n1,2\n"3,4\n')
        result = CliRunner().invoke(main, ["sniff", str(bad)])
        assert result.exit_code == 1
        assert "broken.csv, row 3: the file ends inside a quoted field" in result.output


class TestCleanCommand:
    def test_real_file_counts_add_up_and_corrections_are_shown(self, shared_data: Path):
        path = shared_data / "real" / "nd-dmr-monthly-production-2023-05.xlsx"
        result = CliRunner().invoke(main, ["clean", str(path), "--json", "--examples", "1"])
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert out["source"] == "nd-dmr-production"
        counts = out["counts"]
        assert (
            counts["rows_read"]
            == 1699
            == sum(counts[k] for k in ("clean", "fixed", "quarantined", "duplicate"))
        )
        nulls = next(
            i
            for i in out["issues"]
            if (i["column"], i["message"]) == ("oil_bbl", "missing-value code read as empty")
        )
        assert nulls["count"] == 15 and nulls["examples"][0]["original"] == "NULL"

    def test_unknown_file_gets_a_suggested_mapping(self, tmp_path: Path):
        path = tmp_path / "mine.csv"
        path.write_text("Operator Name,API #,Spud Date\nAcme Oil Co.,42-123-45678,1/2/2024\n")
        result = CliRunner().invoke(main, ["clean", str(path), "--state", "TX"])
        assert result.exit_code == 0, result.output
        assert "source generic" in result.output
        assert "operator_name='Operator Name', api='API #', spud_date='Spud Date'" in result.output

    def test_suggested_mapping_can_be_edited(self, tmp_path: Path):
        path = tmp_path / "mine.csv"
        path.write_text("Operator Name,Well,Spud Date\nAcme Oil Co.,42-123-45678,1/2/2024\n")
        result = CliRunner().invoke(
            main, ["clean", str(path), "--map", "api=Well", "--map", "spud_date=", "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["mapping"] == {
            "operator_name": "Operator Name",
            "api": "Well",
        }
        bad = CliRunner().invoke(main, ["clean", str(path), "--map", "nonsense=Well"])
        assert bad.exit_code == 2 and "FIELD=COLUMN" in bad.output

    def test_unknown_source_is_refused(self, tmp_path: Path):
        path = tmp_path / "x.csv"
        path.write_text("a,b\n1,2\n")
        result = CliRunner().invoke(main, ["clean", str(path), "--source", "nope"])
        assert result.exit_code == 1 and "unknown source 'nope'" in result.output

    def test_sources_lists_every_agency_dataset(self):
        result = CliRunner().invoke(main, ["sources", "--json"])
        names = {r["name"] for r in json.loads(result.output)}
        assert {"tx-rrc-permits", "nd-dmr-production", "ut-dogm-wells", "boem-companies"} <= names
