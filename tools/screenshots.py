"""`make screenshots`: the real app on a seeded sandbox, saved as PNGs in screenshots/.

Brings up a sandbox (fixed seed, 30 days of metrics: enough for the SLI pane's 30-day
sparkline) in a temporary state directory, drives the dashboard through Textual's pilot at
160×48 to each pane, then stages two incidents: `cdn-off` (the volumes pane once the media
volume's 5-minute utilisation reaches 90%; the rate needs about 4½ minutes to get there) and
`bad-rollout` (the rollouts pane with the crash-looping revision). Each screen is saved as
Textual's SVG and converted to PNG in DejaVu Sans Mono (tools/svg2png.py). The sandbox is
stopped at the end, whatever happens.

    python tools/screenshots.py [--out screenshots] [--keep-svg]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cpanel.app import CpanelApp
from cpanel_platform import config
from cpanel_platform.kube.kinds import CERTIFICATES, PODS
from cpanel_platform.sandbox import runner
from cpanel_platform.session import Session
from svg2png import svg_to_png
from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parents[1]
SEED = 7
HISTORY_DAYS = 30
SIZE = (160, 48)
STEADY_TIMEOUT = 120.0  # certificates issued, every pod running or done
SATURATION_TIMEOUT = 420.0  # the 5 m rate climbs for ~275 s after cdn-off starts
ROLLOUT_TIMEOUT = 90.0
BAD_TAG = "2.15.0"  # what the bad-rollout incident pushes

PANES = (
    ("01-overview", "overview"),
    ("02-pods", "pods"),
    ("03-nodes", "nodes"),
    ("04-certificates", "certs"),
    ("05-postgres", "pg"),
    ("06-volumes", "io"),
    ("07-sli", "sli"),
    ("08-rollouts", "rollouts"),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        await asyncio.sleep(0.25)
    return result


async def settle(pilot: Pilot) -> None:
    """Every source has answered, no build is running and no change is waiting."""
    app: CpanelApp = pilot.app  # type: ignore[assignment]
    hub = app.hub

    def quiet() -> bool:
        loaded = None not in (hub.results, hub.linode, hub.keel, hub.server_version)
        return loaded and not hub._pending and not any(w.is_running for w in app.workers)

    for _ in range(3):  # quiet three times in a row: the last rebuild has been shown
        await until(quiet, 30, "the app settling")
        await pilot.pause(0.2)


def steady(app: CpanelApp) -> bool:
    """The seeded world has finished starting: certificates ready, pods running or done."""
    certs = app.hub.objects(CERTIFICATES)
    pods = app.hub.objects(PODS)
    ready = all(
        any(c.get("type") == "Ready" and c.get("status") == "True"
            for c in (cert.get("status") or {}).get("conditions") or ())
        for cert in certs
    )
    settled = all((p.get("status") or {}).get("phase") in ("Running", "Succeeded") for p in pods)
    return bool(certs and pods and ready and settled)


def media_utilisation(app: CpanelApp) -> float:
    view = app.panes["volumes"].view  # type: ignore[attr-defined]
    if view is None:
        return 0.0
    return max((r.utilisation or 0.0 for r in view.rows if r.claim == "media"), default=0.0)


def crash_looping(app: CpanelApp) -> bool:
    for pod in app.hub.objects(PODS):
        for status in (pod.get("status") or {}).get("containerStatuses") or ():
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") == "CrashLoopBackOff":
                return True
    return False


def incident(state: Path, name: str, stop: bool = False) -> None:
    cpanel = Path(sys.executable).parent / "cpanel"
    argv = [str(cpanel), "sandbox", "incident", name, "--state-dir", str(state)]
    subprocess.run([*argv, "--stop"] if stop else argv, check=True, capture_output=True)
    log(f"incident {name} {'stopped' if stop else 'started'}")


class Shooter:
    def __init__(self, app: CpanelApp, svg_dir: Path, out: Path) -> None:
        self.app = app
        self.svg_dir = svg_dir
        self.out = out

    def save(self, name: str) -> None:
        svg = self.svg_dir / f"{name}.svg"
        self.app.save_screenshot(svg.name, str(self.svg_dir))
        svg_to_png(svg.read_text(), self.out / f"{name}.png")
        log(f"{name}.png")


async def goto(pilot: Pilot, alias: str) -> None:
    await pilot.press("colon", *alias, "enter")
    await settle(pilot)


async def drive(state: Path, env: dict[str, str], svg_dir: Path, out: Path) -> None:
    settings = config.Settings()
    session = Session(settings, kubeconfig=env["KUBECONFIG"], env=env)
    app = CpanelApp(settings, kubeconfig=env["KUBECONFIG"], namespace="", session=session)
    app.animation_level = "none"
    shooter = Shooter(app, svg_dir, out)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: steady(app), STEADY_TIMEOUT, "the sandbox starting")
        await settle(pilot)
        for name, alias in PANES:
            if alias != "overview":
                await goto(pilot, alias)
            shooter.save(name)

        incident(state, "cdn-off")
        await goto(pilot, "io")
        started = time.monotonic()
        await until(lambda: media_utilisation(app) >= 0.9, SATURATION_TIMEOUT,
                    "the media volume's utilisation reaching 90%")
        log(f"media volume at {media_utilisation(app):.0%} after "
            f"{time.monotonic() - started:.0f}s")
        await pilot.press("U", "U", "g")  # by utilisation, busiest first; cursor on top
        await settle(pilot)
        shooter.save("09-cdn-off-volumes")
        incident(state, "cdn-off", stop=True)

        incident(state, "bad-rollout")
        await goto(pilot, "rollouts")
        await until(lambda: crash_looping(app), ROLLOUT_TIMEOUT, f"{BAD_TAG} crash-looping")
        await asyncio.sleep(settings.keel.refresh_seconds)  # Keel's audit of the update
        await settle(pilot)
        shooter.save("10-bad-rollout-rollouts")
        incident(state, "bad-rollout", stop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--keep-svg", action="store_true", help="keep the SVGs next to the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    state = Path(tempfile.mkdtemp(prefix="cpanel-screenshots-"))
    svg_dir = args.out if args.keep_svg else state / "svg"
    svg_dir.mkdir(parents=True, exist_ok=True)
    try:
        log(f"sandbox: seed {SEED}, {HISTORY_DAYS} days of metrics, state in {state}")
        info = runner.start_detached(
            state, runner.WorldOptions(seed=SEED, history_days=HISTORY_DAYS))
        log("sandbox up")
        asyncio.run(drive(state, runner.env_exports(state, info), svg_dir, args.out))
    finally:
        runner.stop(state)
        shutil.rmtree(state, ignore_errors=True)
    log(f"done in {time.monotonic() - began:.0f}s: {args.out}")


if __name__ == "__main__":
    main()
