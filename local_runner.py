"""Runs the twinnorm pipeline locally: LocalDagRunner, Beam DirectRunner, SQLite ML Metadata.

python local_runner.py --help
"""

import sys

from pipeline.local import main

if __name__ == "__main__":
    sys.exit(main())
