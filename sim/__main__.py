"""``python -m sim``: the command line (same as the ``reassurance`` command)."""

from sim.cli import main

raise SystemExit(main())
