"""``python3 -m app``: set up the environment if needed, then run the CLI (default: demo server)."""

import sys

from app.provision import main_app

if __name__ == "__main__":
    main_app(sys.argv[1:])
