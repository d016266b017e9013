"""``python -m app.cli``: what ``python3 -m app`` becomes inside the virtual environment."""

import sys

from app.cli import main

sys.exit(main())
