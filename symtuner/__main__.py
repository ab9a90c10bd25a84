"""``python -m symtuner``: the command line."""

from symtuner.app.cli import main

raise SystemExit(main())
