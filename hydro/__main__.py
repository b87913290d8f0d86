"""``python -m hydro``: the same as the ``hydro`` command."""

import sys

from hydro._entry import main

if __name__ == "__main__":
    sys.exit(main())
