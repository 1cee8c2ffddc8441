"""``python -m homelab``: the same as the ``homelab`` command."""

import sys

from homelab.cli import main

sys.exit(main())
