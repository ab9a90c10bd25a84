"""The implementations of the ``symtuner`` sub-commands, one ``cmd_*`` function each.

:mod:`.study` runs, resumes and shows studies; :mod:`.tools` diagnoses a
training and serves, reports, exports, checks or compares studies.
"""
