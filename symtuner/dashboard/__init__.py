"""The study dashboard (Dash) and the offline HTML report; both only read the study store.

Import :mod:`symtuner.dashboard.app` for the live app and
:mod:`symtuner.dashboard.report` for the report.
"""
