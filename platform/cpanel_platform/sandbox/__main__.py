"""`python -m cpanel_platform.sandbox --state-dir D`: the detached sandbox process."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from .runner import WorldOptions, default_state_dir, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="cpanel-sandbox")
    parser.add_argument("--state-dir", type=Path, default=default_state_dir())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--pods", type=int, default=0)
    parser.add_argument("--history-days", type=int, default=90)
    parser.add_argument("--empty", action="store_true")
    args = parser.parse_args()
    options = WorldOptions(
        args.seed, args.speed, args.nodes, args.pods, args.history_days, args.empty
    )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(serve(args.state_dir, options))


if __name__ == "__main__":
    main()
