"""What managers and analysts read out of the CRM: streamed exports, saved reports over an
allow-listed catalog, KPIs, dashboards and forecasts.

Every read here goes through :mod:`ogcrm.auth.policy` like the rest of the product, so
an export, a report or a KPI holds only what its caller may see; the SQL is built from
the catalog (:mod:`ogcrm.reports.catalog`), never from text a user wrote.
"""
