"""`python -m pipelines.cli`: the `fingrowth` command line."""

from pipelines.cli import main

raise SystemExit(main())
