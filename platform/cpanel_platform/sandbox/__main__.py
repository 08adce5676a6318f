"""`python -m cpanel_platform.sandbox --state-dir D`: the detached sandbox process."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from .runner import default_state_dir, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="cpanel-sandbox")
    parser.add_argument("--state-dir", type=Path, default=default_state_dir())
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(serve(args.state_dir, args.speed))


if __name__ == "__main__":
    main()
