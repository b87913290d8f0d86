"""``python -m hydro``: the same as the ``hydro`` command."""

import sys

from hydro.cli import main

sys.exit(main())
