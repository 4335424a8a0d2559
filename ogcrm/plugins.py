"""The plugin manager: built-in plugins, third-party ones from the ``ogcrm`` entry-point
group, and the registry of readers, cleaners and scorers they provide.

Built by :func:`get_plugin_manager` (never at import time) so tests build their own and
a broken third-party plugin is reported by name instead of stopping ogcrm.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from ogcrm import hookspecs
from ogcrm.pipeline.contracts import Cleaner, Notifier, Reader, Scorer, SourceSpec

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ogcrm"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "ogcrm_plugins.readers.delimited",
    "ogcrm_plugins.readers.fixed_width",
    "ogcrm_plugins.readers.json_records",
    "ogcrm_plugins.readers.xml_records",
    "ogcrm_plugins.readers.spreadsheet",
    "ogcrm_plugins.readers.dbf",
    "ogcrm_plugins.cleaners.whitespace",
    "ogcrm_plugins.cleaners.api_number",
    "ogcrm_plugins.cleaners.geography",
    "ogcrm_plugins.cleaners.company_name",
    "ogcrm_plugins.cleaners.dates",
    "ogcrm_plugins.cleaners.numbers",
    "ogcrm_plugins.cleaners.coordinates",
    "ogcrm_plugins.cleaners.contact_points",
    "ogcrm_plugins.sources",
    "ogcrm_plugins.scorers.permits",
    "ogcrm_plugins.scorers.wells",
    "ogcrm_plugins.scorers.production",
    "ogcrm_plugins.scorers.activity",
    "ogcrm_plugins.notifiers",
)


class PluginConflict(RuntimeError):
    """Two plugins provide a reader, cleaner or scorer of the same name."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    origin: str  # "builtin" or the distribution "name version"
    module: str
    error: str | None = None


@dataclass
class Registry:
    readers: dict[str, type[Reader]] = field(default_factory=dict)
    cleaners: dict[str, type[Cleaner]] = field(default_factory=dict)
    scorers: dict[str, type[Scorer]] = field(default_factory=dict)
    notifiers: dict[str, type[Notifier]] = field(default_factory=dict)
    sources: dict[str, SourceSpec] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    #: kind + name -> plugin that provided it
    provided_by: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def failed(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]


def _env_list(name: str) -> set[str]:
    return {v.strip() for v in os.environ.get(name, "").split(",") if v.strip()}


def get_plugin_manager(*, autoload: bool = True) -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    """Build a plugin manager with the built-ins and (unless disabled) entry points.

    ``OGCRM_DISABLE_PLUGIN_AUTOLOAD`` skips entry points; ``OGCRM_BLOCK_PLUGINS`` (comma
    separated names) blocks plugins; ``OGCRM_TRACE_PLUGINS`` logs every hook call.
    """
    pm = pluggy.PluginManager("ogcrm")
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    blocked = _env_list("OGCRM_BLOCK_PLUGINS")
    for name in blocked:
        pm.set_blocked(name)
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        infos.append(PluginInfo(name=module_name, origin="builtin", module=module_name))
    if autoload and not os.environ.get("OGCRM_DISABLE_PLUGIN_AUTOLOAD"):
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in blocked or pm.has_plugin(ep.name):
                continue
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown distribution"
            try:
                plugin: ModuleType | Any = ep.load()
                pm.register(plugin, name=ep.name)
            except Exception as exc:  # a broken plugin must not stop ogcrm
                log.error(
                    "plugin %r (%s) failed to load: %s: %s", ep.name, dist, type(exc).__name__, exc
                )
                infos.append(
                    PluginInfo(ep.name, dist, ep.value, error=f"{type(exc).__name__}: {exc}")
                )
                continue
            infos.append(PluginInfo(name=ep.name, origin=dist, module=ep.value))
    if os.environ.get("OGCRM_TRACE_PLUGINS"):
        pm.trace.root.setwriter(log.debug)
        pm.enable_tracing()
    pm.check_pending()
    return pm, infos


def _provider(pm: pluggy.PluginManager, hook: Any, obj: Any) -> str:
    """The plugin an object a hook returned comes from, for ``ogcrm plugins`` and
    conflict messages: the only implementer of the hook, or else the implementer whose
    module defines the object (or whose package holds that module)."""
    implementers = hook.get_hookimpls()  # wrappers too: they may add to the result
    if len(implementers) == 1:
        return str(implementers[0].plugin_name)
    module = getattr(obj, "__module__", "") or ""
    best, best_len = "unknown", -1
    for impl in implementers:
        home = getattr(impl.plugin, "__name__", "") or ""
        package = home.rpartition(".")[0] if not hasattr(impl.plugin, "__path__") else home
        for prefix, weight in ((home, 2 * len(home) + 1), (package, 2 * len(package))):
            if (
                prefix
                and (module == prefix or module.startswith(prefix + "."))
                and weight > best_len
            ):
                best, best_len = str(impl.plugin_name), weight
    return best


def _collect(results: list[list[Any] | None]) -> list[Any]:
    """A collecting hook's results, first registered plugin first (pluggy calls the last
    registered first)."""
    return [item for result in reversed(results) for item in (result or [])]


def build_registry(pm: pluggy.PluginManager, infos: list[PluginInfo]) -> Registry:
    """Collect every plugin's classes by name; a duplicate name names both plugins.

    Every hook is called through ``pm.hook``, so ``OGCRM_TRACE_PLUGINS`` traces the calls
    and a plugin's ``wrapper=True`` implementation sees (and may change) the result.
    """
    registry = Registry(plugins=list(infos))
    for kind, hook, target in (
        ("reader", pm.hook.ogcrm_register_readers, registry.readers),
        ("cleaner", pm.hook.ogcrm_register_cleaners, registry.cleaners),
        ("scorer", pm.hook.ogcrm_register_scorers, registry.scorers),
        ("notifier", pm.hook.ogcrm_register_notifiers, registry.notifiers),
    ):
        registered: dict[str, Any] = target
        for cls in _collect(hook()):
            name = cls.name
            by = _provider(pm, hook, cls)
            if name in registered:
                other = registry.provided_by[(kind, name)]
                raise PluginConflict(f"{kind} {name!r} is provided by both {other!r} and {by!r}")
            registered[name] = cls
            registry.provided_by[(kind, name)] = by
    # A spec is a plain dataclass instance, so the module that defines it cannot say
    # whose it is (as a class's can): each implementation is asked by itself, once more.
    source_of = {
        spec.name: str(impl.plugin_name)
        for impl in pm.hook.ogcrm_register_sources.get_hookimpls()
        if not impl.hookwrapper and not impl.wrapper
        for spec in (impl.function() or [])
    }
    for spec in _collect(pm.hook.ogcrm_register_sources()):
        by = source_of.get(spec.name) or _provider(pm, pm.hook.ogcrm_register_sources, spec)
        if spec.name in registry.sources:
            other = registry.provided_by[("source", spec.name)]
            raise PluginConflict(f"source {spec.name!r} is provided by both {other!r} and {by!r}")
        unknown = [c for c in spec.cleaners if c not in registry.cleaners]
        if spec.reader and spec.reader not in registry.readers:
            unknown.insert(0, f"reader {spec.reader}")
        if unknown:
            raise PluginConflict(f"source {spec.name!r} ({by}) names unknown {', '.join(unknown)}")
        registry.sources[spec.name] = spec
        registry.provided_by[("source", spec.name)] = by
    seen: dict[str, str] = {}
    for name, scorer in registry.scorers.items():
        for feature in scorer().features():
            if feature.name in seen:
                raise PluginConflict(
                    f"feature {feature.name!r} is provided by both scorers {seen[feature.name]!r} "
                    f"and {name!r}"
                )
            seen[feature.name] = name
    return registry


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _default
    if _default is None:
        pm, infos = get_plugin_manager()
        _default = build_registry(pm, infos)
    return _default
