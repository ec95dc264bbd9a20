"""``python -m probgen``: the same command line as the ``probgen`` script."""

from probgen.cli import main

raise SystemExit(main())
