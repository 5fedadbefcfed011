"""``python -m mlecourse`` runs the command-line interface."""

from mlecourse.cli import main

raise SystemExit(main())
