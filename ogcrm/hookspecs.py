"""The plugin contract: every hook ogcrm calls, with what it must and must not do.

A plugin is a module (or object) with functions named after these hooks and decorated
with :data:`ogcrm.hookimpl`. Built-in plugins (``ogcrm_plugins``) use exactly this
contract; third-party ones are found through the ``ogcrm`` entry-point group::

    [project.entry-points.ogcrm]
    my_agency = "my_package.ogcrm_plugin"

Hooks are called with keyword arguments; an implementation may accept fewer of them.
"""

from __future__ import annotations

import pluggy

from ogcrm.pipeline.contracts import Cleaner, Notifier, Reader, Scorer, SourceSpec

hookspec = pluggy.HookspecMarker("ogcrm")


@hookspec
def ogcrm_register_readers() -> list[type[Reader]]:
    """Return the :class:`~ogcrm.pipeline.contracts.Reader` classes this plugin provides.

    Called once, when the plugin manager is built (server start, CLI command, worker
    start). Every plugin's list is collected (not firstresult). Each class's ``name``
    must be unique across all plugins: a duplicate stops start-up naming both plugins.

    Must not: open files, import heavy optional libraries at module import time if they
    may be missing (import them inside ``read``), or do any I/O.
    """


@hookspec
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    """Return the :class:`~ogcrm.pipeline.contracts.Cleaner` classes this plugin provides.

    Called once when the plugin manager is built; all lists are collected. Names must
    be unique. Sources refer to cleaners by name in their cleaner chain.

    Must not: do I/O or keep state between chunks.
    """


@hookspec
def ogcrm_register_scorers() -> list[type[Scorer]]:
    """Return the :class:`~ogcrm.pipeline.contracts.Scorer` classes this plugin provides.

    Called once when the plugin manager is built; all lists are collected. Feature names
    across all scorers must be unique; rules refer to them.

    Must not: query the database at registration time.
    """


@hookspec
def ogcrm_register_sources() -> list[SourceSpec]:
    """Return the :class:`~ogcrm.pipeline.contracts.SourceSpec` definitions this plugin
    provides: agency dataset kinds with their reader, column mapping and cleaner chain.

    Called once when the plugin manager is built; all lists are collected. Names must be
    unique across plugins. The reader and cleaners a source names must be registered by
    some plugin; a source naming an unknown one is refused at start-up.

    Must not: do I/O at call time beyond reading files shipped inside the plugin's own
    package.
    """


@hookspec
def ogcrm_register_notifiers() -> list[type[Notifier]]:
    """Return the :class:`~ogcrm.pipeline.contracts.Notifier` classes this plugin provides.

    Called once when the plugin manager is built; all lists are collected. Names must be
    unique. Built in: ``smtp`` (when ``OGCRM_SMTP_URL`` is set) and ``outbox`` (a file of
    JSON lines in the data directory: the embedded default, which sends nothing).

    Must not: connect anywhere at registration or in ``configure`` (connect in ``send``).
    """
