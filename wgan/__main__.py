"""``python -m wgan``: the command-line interface (see `wgan.cli`)."""
from wgan.cli import main

raise SystemExit(main())
