"""An example ogcrm plugin for a layout ogcrm does not ship: Oklahoma Corporation
Commission intent-to-drill bulletins (a made-up but typical block-of-``KEY: value``
text format). Copy it to start your own; ``docs/plugins.md`` in ogcrm explains each hook.
"""

__version__ = "0.1.0"
