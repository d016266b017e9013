"""``python3 -m tests``: set up the environment if needed, then ruff, mypy and pytest."""

import sys

from app.provision import main_tests

if __name__ == "__main__":
    main_tests(sys.argv[1:])
