"""The study dashboard (Dash) and the offline HTML report; both only read the study store.

Import :mod:`symtuner.app.dashboard.app` for the live app and
:mod:`symtuner.app.dashboard.report` for the report.
"""
