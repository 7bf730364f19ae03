"""``python -m i2i_nb``: the command line (see :mod:`i2i_nb.cli`)."""

import sys

from i2i_nb.cli import main

sys.exit(main())
