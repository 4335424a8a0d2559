"""The demo: generated agency files and a sales team's week, set up through the product's
own flows (``ogcrm demo``)."""
