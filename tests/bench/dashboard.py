"""`make bench`, part two: the dashboard's own figures (issue 4, acceptance 5).

The app runs under Textual's pilot (160×48, headless) against two sandboxes: the default world
(start-up, change-to-screen latency, idle API traffic) and one with 100 nodes and 5,000 more
pods (filter keystrokes, scrolling, RSS). A latency ends at the first compositor refresh — the
frame a terminal would be sent — that shows the result. Each figure is printed next to its
target; a miss is profiled (cProfile) and its hot spots printed. Figures to read, not a test.

The 5,000-pod world is `sandbox up --nodes 100` plus 5,000 Pods created over the API for a
scheduler nobody runs: 100 heartbeating Nodes and 5,022 Pods at rest (pending, so no kubelet
starts them), ready in under a minute. `--busy` uses `sandbox up --nodes 100 --pods 5000`
instead, whose kubelets keep starting pods for many minutes (a pod event every few hundred
ms), and which takes ~80 s to come up.

Every phase runs in a child process of its own, so imports and RSS do not leak between them.
Run: `make bench`, or `.venv/bin/python -m tests.bench.dashboard [--busy]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import fcntl
import gc
import json
import math
import os
import pstats
import pty
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from cpanel_platform.sandbox import runner
from rich.console import Console
from rich.table import Table

from tests.bench.kubeapi_scale import _client
from tests.conftest import Sandbox

SIZE = (160, 48)
STARTS = 3  # cold starts of the app, each in a fresh process
CHANGES = 20  # pod changes timed on the default world
SCALE_CHANGES = 10  # and at 5,000 pods
IDLE_SECONDS = 10.0
FILTER = "ingress"
PAGE_DOWNS = 50
PODS, NAMESPACES = 5000, 20
MB = 1024 * 1024

# figure → (label, unit, target); the figure's value is in seconds, bytes or a count.
FIGURES: dict[str, tuple[str, str, float | None]] = {
    "import": ("`cpanel` imports (cpanel.cli + cpanel.app)", "ms", None),
    "binary_frame": ("`cpanel` in a 160×48 pty: exec → first frame", "ms", 500),
    "first_frame": ("CpanelApp() → first frame, median of cold starts", "ms", 500),
    "first_frame_max": ("CpanelApp() → first frame, worst cold start", "ms", 500),
    "cards": ("CpanelApp() → all 7 overview cards filled, median", "ms", None),
    "change_median": ("pod label patched → on screen, median", "ms", 250),
    "change_p95": ("pod label patched → on screen, p95", "ms", 250),
    "change_watch": ("  of which: in the watch cache, median", "ms", None),
    "change_table": ("  of which: in the table, median", "ms", None),
    "idle_requests": (f"idle {IDLE_SECONDS:g} s on pods: non-watch API requests", "", 0),
    "idle_watch_opens": (f"idle {IDLE_SECONDS:g} s on pods: watches (re)opened", "", None),
    "idle_open_watches": ("open watches (one per cached kind)", "", None),
    "scale_first_frame": ("CpanelApp() → first frame (overview)", "ms", 500),
    "scale_loaded": (":pods → the table holds every pod", "ms", None),
    "scale_build": ("pods pane build (thread worker), median", "ms", None),
    "scale_set_rows": ("table.set_rows (UI thread), median", "ms", None),
    "scale_frame": ("rendering one frame (compositor refresh), median", "ms", None),
    "scale_change_median": ("pod label patched → on screen, median", "ms", 250),
    "scale_change_p95": ("pod label patched → on screen, p95", "ms", 250),
    "scale_change_watch": ("  of which: in the watch cache, median", "ms", None),
    "scale_change_table": ("  of which: in the table, median", "ms", None),
    "filter_median": (f"filter keystroke ('{FILTER}' and back), median", "ms", 50),
    "filter_p95": (f"filter keystroke ('{FILTER}' and back), p95", "ms", 50),
    "filter_refilter": ("  of which: table re-filter (UI thread), median", "ms", None),
    "scroll_median": (f"pagedown ×{PAGE_DOWNS}, G, g: per key, median", "ms", None),
    "scroll_max": (f"pagedown ×{PAGE_DOWNS}, G, g: per key, max", "ms", 50),
    "scroll_quiet_max": ("  max over keys with no build and no full GC", "ms", 50),
    "gc_max": ("longest full GC pause (generation 2)", "ms", None),
    "rss": ("RSS with everything loaded (VmRSS)", "MB", 250),
    "rss_peak": ("peak RSS (VmHWM)", "MB", 250),
}
SECTIONS = {"import": "start", "change_median": "live", "idle_requests": "idle",
            "scale_first_frame": "5,000 pods"}


# -- small helpers -----------------------------------------------------------------------
def box_of(state: Path) -> Sandbox:
    """The handle of the sandbox running in `state`."""
    info = runner.read_runtime(state)
    if not info:
        raise SystemExit(f"no sandbox runs in {state}")
    home = state / "home"
    home.mkdir(exist_ok=True)
    return Sandbox(state, info["kube"], runner.Paths(state).kubeconfig, home,
                   runner.env_exports(state, info))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def hot_spots(stats: pstats.Stats, title: str, top: int = 10) -> str:
    """The functions with the most self time, and cpanel's with the most cumulative time,
    each as a share of the profiled total."""
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in table.values()) or 1e-9

    def name(key: tuple[str, int, str]) -> str:
        file, line, func = key
        short = re.sub(r".*/(site-packages|tui|platform|lib/python3\.\d+)/", "", file)
        return f"{func} ({short}:{line})" if line else func

    lines = [f"{title}: {total * 1000:.0f} ms profiled", "  self time:"]
    for key, (_, calls, tt, _, _) in sorted(table.items(), key=lambda kv: -kv[1][2])[:top]:
        lines.append(f"    {tt / total:6.1%}  {calls:>8}×  {name(key)}")
    ours = [(k, v) for k, v in table.items() if "/cpanel" in k[0] and "/tests/" not in k[0]]
    lines.append("  cumulative, cpanel code:")
    for key, (_, calls, _, ct, _) in sorted(ours, key=lambda kv: -kv[1][3])[:top]:
        lines.append(f"    {ct / total:6.1%}  {calls:>8}×  {name(key)}")
    return "\n".join(lines)


@contextlib.contextmanager
def profiling() -> Iterator[cProfile.Profile]:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield profiler
    finally:
        profiler.disable()


@contextlib.contextmanager
def exit_errors(out: dict[str, Any]) -> Iterator[None]:
    """An exception the app raises (e.g. while closing) is reported; the figures stand."""
    try:
        yield
    except Exception as err:
        out.setdefault("errors", []).append(f"{type(err).__name__}: {err}"[:300])


async def poll(check: Callable[[], Any], timeout: float = 30.0, step: float = 0.005) -> float:
    """Poll `check` every `step` inside the app's loop; the time it first held."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
    return time.monotonic()


# -- hooks into the running app ----------------------------------------------------------
class Frames:
    """Hooks the screen's compositor refresh: `wait(check)` resolves with the time of the
    first frame rendered while `check()` holds."""

    def __init__(self, app: Any) -> None:
        self._waiters: list[tuple[Callable[[], Any], asyncio.Future[float]]] = []
        self.durations: list[float] = []  # how long each frame took to render
        screen = app.screen
        original = screen._compositor_refresh

        def refresh() -> None:
            began = time.monotonic()
            original()
            now = time.monotonic()
            self.durations.append(now - began)
            for check, future in list(self._waiters):
                if not future.done() and check():
                    future.set_result(now)

        screen._compositor_refresh = refresh

    async def wait(self, check: Callable[[], Any], timeout: float = 10.0) -> float:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        waiter = (check, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.remove(waiter)


class Timings:
    """Wraps the pods pane's build (thread worker) and its table's set_rows and _refilter
    (UI thread) to record when each ran; records the garbage collector's full collections."""

    def __init__(self, app: Any) -> None:
        pane = app.panes["pods"]
        table = pane.table
        self.builds: list[list[float]] = []  # [start, end]; end is inf while running
        self.set_rows: list[float] = []
        self.refilters: list[float] = []
        self.collections: list[list[float]] = []  # full (generation 2) collections
        gc.callbacks.append(self._on_gc)
        build = pane.build

        def timed_build(now: float) -> Any:
            span = [time.monotonic(), math.inf]
            self.builds.append(span)
            try:
                return build(now)
            finally:
                span[1] = time.monotonic()

        pane.build = timed_build
        for name, into in (("set_rows", self.set_rows), ("_refilter", self.refilters)):
            table.__dict__[name] = self._timed(getattr(table, name), into)

    @staticmethod
    def _timed(fn: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            start = time.monotonic()
            try:
                return fn(*args)
            finally:
                into.append(time.monotonic() - start)

        return timed

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self.collections.append([time.monotonic(), math.inf])
        elif self.collections:
            self.collections[-1][1] = time.monotonic()

    def during(self, start: float, end: float) -> str:
        """What else ran between `start` and `end`: "build", "gc" or ""."""
        for what, spans in (("build", self.builds), ("gc", self.collections)):
            if any(s < end and e > start for s, e in spans):
                return what
        return ""

    def gc_pauses(self) -> list[float]:
        return [e - s for s, e in self.collections if e != math.inf]

    def build_seconds(self) -> list[float]:
        return [e - s for s, e in self.builds if e != math.inf]


class RequestLog:
    """Every request the app's Kubernetes ApiClient sends (all go through its pool)."""

    def __init__(self, api: Any) -> None:
        self.requests: list[tuple[float, str, str]] = []
        pool = api.rest_client.pool_manager
        original = pool.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            self.requests.append((time.monotonic(), method, url))
            return original(method, url, *args, **kwargs)

        pool.request = request


def press(app: Any, key: str) -> None:
    """Send one key as a terminal would, without the pilot's wait-for-idle sleeps."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


def app_for(box: Sandbox) -> tuple[Any, RequestLog]:
    from tests.tui.conftest import sandbox_app

    app = sandbox_app(box)
    return app, RequestLog(app.session.target.api)


def cards_filled(app: Any) -> bool:
    from cpanel.panes.overview import CardWidget

    return all(str(card.content) != "…" for card in app.query(CardWidget))


def label_of(table: Any, key: str) -> str | None:
    index = table._index.get(key)
    return None if index is None else dict(table.rows[index].labels).get("bench-mark")


async def open_pods(app: Any, pilot: Any, rows_at_least: int) -> float:
    start = time.monotonic()
    app.open_pane("pods", drill=False)
    await pilot.pause()
    return await poll(lambda: app.pane.table.total >= rows_at_least, timeout=90) - start


# -- the measurements ----------------------------------------------------------------------
async def start_up(box: Sandbox, profile: bool) -> dict[str, Any]:
    """A cold start: CpanelApp() to its first frame, and to all overview cards filled."""
    import tests.tui.conftest  # noqa: F401  (imports are `import_time`'s figure, not this)

    out: dict[str, Any] = {}
    profiler = cProfile.Profile() if profile else None
    start = time.monotonic()
    if profiler is not None:
        profiler.enable()
    app, _ = app_for(box)
    with exit_errors(out):
        async with app.run_test(size=SIZE):
            await poll(lambda: app.first_frame_at is not None, step=0.001)
            if profiler is not None:
                profiler.disable()
                out["profile"] = hot_spots(pstats.Stats(profiler), "CpanelApp() → first frame")
            out["first_frame"] = app.first_frame_at - start
            out["cards"] = await poll(lambda: cards_filled(app), timeout=30) - start
    return out


async def change_latency(
    box: Sandbox, app: Any, frames: Frames, samples: int, profile: bool = False,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Patch a label of the pod on the table's first row, `samples` times; time until the
    pods watch cache has it, the table has it, and a frame was rendered with it."""
    from cpanel_platform.kube.kinds import PODS

    pane, table = app.pane, app.pane.table
    key = table.rows[0].key
    namespace, name = key.split("/", 1)
    http = _client(box.state_dir)
    cached: dict[str, float] = {}

    def on_cache(cache: Any) -> None:  # on the watch thread
        pod = cache.get(namespace, name) or {}
        value = (pod.get("metadata", {}).get("labels") or {}).get("bench-mark")
        if value and value not in cached:
            cached[value] = time.monotonic()

    unsubscribe = app.hub.cache(PODS).subscribe(on_cache)
    build, builders = pane.build, []
    if profile:  # the build runs in a thread worker: profile it there
        def profiled_build(now: float) -> Any:
            profiler = cProfile.Profile()
            builders.append(profiler)
            return profiler.runcall(build, now)

        pane.build = profiled_build
    ui = cProfile.Profile()
    if profile:
        ui.enable()
    results: list[tuple[float, float, float]] = []
    try:
        for i in range(samples):
            value = f"m{i}-{time.time_ns()}"
            sent: list[float] = []

            def arrived(v: str = value) -> bool:
                return label_of(table, key) == v

            shown = asyncio.ensure_future(frames.wait(arrived, timeout))

            def patch(v: str = value, sent: list[float] = sent) -> bool:
                sent.append(time.monotonic())
                try:
                    http.patch(f"/api/v1/namespaces/{namespace}/pods/{name}",
                               content=json.dumps({"metadata": {"labels": {"bench-mark": v}}}),
                               headers={"Content-Type": "application/merge-patch+json"},
                               ).raise_for_status()
                except httpx.HTTPError:  # an overloaded sandbox: the sample is lost
                    return False
                return True

            patching = asyncio.ensure_future(asyncio.to_thread(patch))

            def failed(task: asyncio.Future[bool] = patching) -> bool:
                return task.done() and not task.result()

            try:
                in_table = await poll(lambda: arrived() or failed(), timeout)
                if not arrived():
                    raise TimeoutError("the patch failed")
                on_screen = await shown
            except TimeoutError:
                shown.cancel()
                await patching
                continue
            await patching
            results.append((cached.get(value, in_table) - sent[0], in_table - sent[0],
                            on_screen - sent[0]))
            await asyncio.sleep(0.1)
    finally:
        ui.disable()
        unsubscribe()
        http.close()
        pane.build = build
    out: dict[str, Any] = {"samples": len(results), "of": samples}
    if results:
        screen = [r[2] for r in results]
        out |= {"median": statistics.median(screen), "p95": p95(screen),
                "watch": statistics.median(r[0] for r in results),
                "table": statistics.median(r[1] for r in results)}
    if profile:
        out["profile"] = hot_spots(pstats.Stats(ui), "UI thread during the changes")
        if builders:
            stats = pstats.Stats(builders[0])
            for profiler in builders[1:]:
                stats.add(profiler)
            out["profile"] += "\n" + hot_spots(stats, "pane.build in its thread worker")
    return out


def missed(change: dict[str, Any]) -> bool:
    return change.get("median", math.inf) > 0.25 or change.get("p95", math.inf) > 0.25


async def idle_traffic(app: Any, log: RequestLog) -> dict[str, Any]:
    await asyncio.sleep(2.0)  # let start-up requests (version, RBAC, lists) finish
    start = time.monotonic()
    await asyncio.sleep(IDLE_SECONDS)
    requests = [r for r in log.requests if r[0] >= start]
    watches = [r for r in requests if "watch=true" in r[2]]
    others = [r for r in requests if "watch=true" not in r[2]]
    caches = app.session.caches._caches.values()
    return {
        "idle_requests": len(others),
        "idle_watch_opens": len(watches),
        "idle_open_watches": sum(1 for c in caches if c._response is not None),
        "idle_other_urls": sorted({f"{m} {u.split('?')[0]}" for _, m, u in others}),
    }


async def keystrokes(
    app: Any, frames: Frames, timings: Timings, keys: list[tuple[str, Callable[[], Any]]]
) -> list[tuple[float, str]]:
    """Per key: (from sending it to the first frame rendered once `done()` holds, what else
    ran meanwhile: "build", "gc" or ""). A key whose frame never came counts as 10 s."""
    times = []
    for key, done in keys:
        start = time.monotonic()
        press(app, key)
        try:
            end = await frames.wait(done)
        except TimeoutError:
            end = start + 10.0
        times.append((end - start, timings.during(start, end)))
        await asyncio.sleep(0.03)  # a fast typist, not a flood
    return times


def filter_keys(app: Any) -> list[tuple[str, Callable[[], Any]]]:
    keys: list[tuple[str, Callable[[], Any]]] = []
    for i in range(1, len(FILTER) + 1):
        keys.append((FILTER[i - 1], lambda t=FILTER[:i]: app.filters.get("pods") == t))
    for i in range(len(FILTER) - 1, -1, -1):
        keys.append(("backspace", lambda t=FILTER[:i]: app.filters.get("pods", "") == t))
    return keys


async def filtering(app: Any, pilot: Any, frames: Frames, timings: Timings,
                    out: dict[str, Any]) -> None:
    app.action_filter()  # what `/` does
    await pilot.pause()
    refilters = len(timings.refilters)
    out["filter"] = await keystrokes(app, frames, timings, filter_keys(app))
    out["filter_refilter"] = statistics.median(timings.refilters[refilters:] or [math.nan])
    typed = [t for t, _ in out["filter"]]
    if statistics.median(typed) > 0.05 or p95(typed) > 0.05:
        with profiling() as profiler:
            await keystrokes(app, frames, timings, filter_keys(app))
        out["profile_filter"] = hot_spots(pstats.Stats(profiler), "filter keystrokes, UI thread")
    press(app, "enter")  # close the filter box; focus returns to the table
    await pilot.pause()


async def scrolling(app: Any, frames: Frames, timings: Timings, out: dict[str, Any]) -> None:
    table = app.pane.table

    async def keys(names: list[str]) -> list[tuple[float, str]]:
        times = []
        for key in names:
            before = table.cursor
            times += await keystrokes(app, frames, timings,
                                      [(key, lambda b=before: table.cursor != b)])
        return times

    out["scroll"] = await keys(["pagedown"] * PAGE_DOWNS + ["G", "g"])
    if max(t for t, _ in out["scroll"]) > 0.05:
        with profiling() as profiler:
            await keys(["pagedown"] * 20 + ["G", "g"])
        out["profile_scroll"] = hot_spots(pstats.Stats(profiler), "scrolling, UI thread")


async def default_world(box: Sandbox) -> dict[str, Any]:
    """The pods pane on the default world: idle API traffic, then pod changes."""
    out: dict[str, Any] = {}
    app, log = app_for(box)
    with exit_errors(out):
        async with app.run_test(size=SIZE) as pilot:
            await open_pods(app, pilot, 10)
            out |= await idle_traffic(app, log)
            frames = Frames(app)
            out["change"] = await change_latency(box, app, frames, CHANGES)
            if missed(out["change"]):
                profiled = await change_latency(box, app, frames, 8, profile=True)
                out["profile_change"] = profiled.get("profile", "")
    return out


async def scale(box: Sandbox, busy: bool) -> dict[str, Any]:
    """One app on all namespaces: start-up, the pods pane, changes, filter, scroll, RSS."""
    out: dict[str, Any] = {}
    start = time.monotonic()
    app, _ = app_for(box)
    with exit_errors(out):
        async with app.run_test(size=SIZE) as pilot:
            await poll(lambda: app.first_frame_at is not None)
            out["scale_first_frame"] = app.first_frame_at - start
            timings = Timings(app)
            out["scale_loaded"] = await open_pods(app, pilot, 5000)
            out["rows"] = app.pane.table.total
            frames = Frames(app)
            await asyncio.sleep(1.0)
            wait = 5.0 if busy else 10.0
            out["scale_change"] = await change_latency(box, app, frames, SCALE_CHANGES,
                                                       timeout=wait)
            if missed(out["scale_change"]):
                profiled = await change_latency(box, app, frames, 5, profile=True, timeout=wait)
                out["profile_change"] = profiled.get("profile", "")
            await filtering(app, pilot, frames, timings, out)
            await scrolling(app, frames, timings, out)
            out["rss"] = status_kb("VmRSS") * 1024
            out["rss_peak"] = status_kb("VmHWM") * 1024
            out["scale_build"] = statistics.median(timings.build_seconds() or [math.nan])
            out["scale_set_rows"] = statistics.median(timings.set_rows or [math.nan])
            out["scale_frame"] = statistics.median(frames.durations or [math.nan])
            out["builds"] = len(timings.builds)
            pauses = timings.gc_pauses()
            out["gc_count"], out["gc_max"] = len(pauses), max(pauses, default=0.0)
    return out


def import_time() -> tuple[float, list[tuple[str, float]]]:
    """What `cpanel` imports in a fresh interpreter: the total, and the costliest direct
    imports of cpanel.cli and cpanel.app."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import cpanel.cli, cpanel.app"],
        capture_output=True, text=True, check=True)
    total, parts, children = 0.0, [], []
    for line in proc.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue
        seconds, name = int(fields[1]) / 1e6, fields[2][1:]
        level = (len(name) - len(name.lstrip())) // 2
        if level == 1:
            children.append((name.strip(), seconds))
        elif level == 0:  # a module is printed after everything it imported
            if name in ("cpanel.cli", "cpanel.app"):
                total += seconds
                parts += children
            children = []
    return total, sorted(parts, key=lambda p: -p[1])[:6]


def binary_first_frame(box: Sandbox, config_home: Path) -> float:
    """Wall time from exec of the real `cpanel` in a 160×48 pty until its first frame (the
    overview, down to the screen's last line) has been written."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**os.environ, **box.env, "HOME": str(box.home), "XDG_CONFIG_HOME": str(config_home),
           "TERM": "xterm-256color"}
    cpanel = str(Path(sys.executable).parent / "cpanel")
    last_line = f"\x1b[{SIZE[1]};1H".encode()
    start = time.monotonic()
    proc = subprocess.Popen([cpanel], stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    seen, shown = b"", None
    try:
        while shown is None and time.monotonic() < start + 20:
            if not select.select([master], [], [], 0.05)[0]:
                continue
            try:
                seen += os.read(master, 1 << 16)
            except OSError:
                break
            at = seen.find(b"Overview")
            if at >= 0 and seen.find(last_line, at) >= 0:
                shown = time.monotonic()
        os.write(master, b":q\r")
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    if shown is None:
        raise RuntimeError("no frame with the overview within 20 s")
    return shown - start


# -- orchestration -----------------------------------------------------------------------
def phase(name: str, state: Path, out: Path, flag: bool) -> None:
    """Child process: one phase against the sandbox in `state`; its figures as JSON."""
    box = box_of(state)
    if name == "start":
        result = asyncio.run(start_up(box, profile=flag))
    elif name == "default":
        result = asyncio.run(default_world(box))
    else:
        result = asyncio.run(scale(box, busy=flag))
    out.write_text(json.dumps(result))


def run_phase(name: str, state: Path, flag: bool = False) -> dict[str, Any]:
    out = state / f"bench-{name}.json"
    argv = [sys.executable, "-m", "tests.bench.dashboard", "--phase", name,
            "--state", str(state), "--out", str(out)]
    subprocess.run([*argv, "--flag"] if flag else argv, check=True)
    return json.loads(out.read_text())


def load_pods(state: Path) -> None:
    """5,000 Pods in 20 namespaces that stay Pending: their scheduler does not exist."""
    with _client(state) as http:
        for n in range(NAMESPACES):
            http.post("/api/v1/namespaces",
                      json={"metadata": {"name": f"load-{n}"}}).raise_for_status()
        for i in range(PODS):
            pod = {
                "metadata": {"name": f"pod-{i}", "labels": {"app": f"app-{i % 50}"}},
                "spec": {"schedulerName": "bench-hold",
                         "containers": [{"name": "main", "image": "nginx:1.27"}]},
            }
            http.post(f"/api/v1/namespaces/load-{i % NAMESPACES}/pods",
                      json=pod).raise_for_status()


@contextlib.contextmanager
def sandbox(state: Path, options: runner.WorldOptions) -> Iterator[Sandbox]:
    try:
        runner.start_detached(state, options)
        yield box_of(state)
    finally:
        runner.stop(state)


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} cores · {model} · Python {sys.version.split()[0]} · "
            f"load average {os.getloadavg()[0]:.1f}")


def figures_of(start: dict[str, Any], default: dict[str, Any],
               big: dict[str, Any]) -> dict[str, float]:
    figures = {k: v for part in (start, default, big) for k, v in part.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    for prefix, change in (("", default.get("change")), ("scale_", big.get("scale_change"))):
        for part in ("median", "p95", "watch", "table"):
            if change and part in change:
                figures[f"{prefix}change_{part}"] = change[part]
    if big.get("filter"):
        typed = [t for t, _ in big["filter"]]
        figures |= {"filter_median": statistics.median(typed), "filter_p95": p95(typed)}
    if big.get("scroll"):
        scroll = [t for t, _ in big["scroll"]]
        quiet = [t for t, during in big["scroll"] if not during]
        figures |= {"scroll_median": statistics.median(scroll), "scroll_max": max(scroll)}
        if quiet:
            figures["scroll_quiet_max"] = max(quiet)
    return figures


def report(console: Console, figures: dict[str, float], notes: dict[str, str],
           title: str) -> None:
    table = Table(title=title, caption=machine(), title_justify="left")
    for column, justify in (("", "left"), ("figure", "left"), ("measured", "right"),
                            ("target", "right"), ("", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for key, (label, unit, target) in FIGURES.items():
        if key in SECTIONS:
            table.add_section()
        value = figures.get(key)
        shown, verdict = "-", ""
        if value is not None and not math.isnan(value):
            value = value * 1000 if unit == "ms" else value / MB if unit == "MB" else value
            shown = f"{value:,.1f} {unit}" if unit else f"{value:,.0f}"
            if target is not None:
                verdict = "[green]ok" if value <= target else "[bold red]missed"
        goal = "" if target is None else f"< {target:g} {unit}" if target else "0"
        table.add_row(SECTIONS.get(key, ""), label + notes.get(key, ""), shown, goal, verdict)
    console.print(table)


def start_profile(state: Path) -> str:
    return run_phase("start", state, flag=True).get("profile", "")


def main(busy: bool) -> None:
    console = Console() if sys.stdout.isatty() else Console(width=120)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cpanel-bench-") as tmp:
        root = Path(tmp)
        console.print("[dim]default sandbox: start-up, live changes, idle traffic…")
        with sandbox(root / "default", runner.WorldOptions(history_days=1)) as box:
            starts = [run_phase("start", root / "default") for _ in range(STARTS)]
            frames = [s["first_frame"] for s in starts if "first_frame" in s]
            start: dict[str, Any] = {
                "first_frame": statistics.median(frames), "first_frame_max": max(frames),
                "cards": statistics.median(s["cards"] for s in starts if "cards" in s),
                "errors": [e for s in starts for e in s.get("errors", [])],
            }
            if start["first_frame_max"] > 0.5:
                start["profile_start"] = start_profile(root / "default")
            start["import"], start["import_parts"] = import_time()
            try:
                start["binary_frame"] = binary_first_frame(box, root / "config")
            except RuntimeError as err:
                console.print(f"[yellow]`cpanel` in a pty not measured: {err}")
            default = run_phase("default", root / "default")
        if busy:
            console.print("[dim]sandbox up --nodes 100 --pods 5000 (about 80 s to come up)…")
            options = runner.WorldOptions(nodes=100, pods=PODS, history_days=1)
        else:
            console.print("[dim]sandbox up --nodes 100, plus 5,000 pending pods…")
            options = runner.WorldOptions(nodes=100, history_days=1)
        with sandbox(root / "scale", options):
            if not busy:
                load_pods(root / "scale")
            big = run_phase("scale", root / "scale", flag=busy)
            if big.get("scale_first_frame", 0) > 0.5:
                big["profile_start"] = start_profile(root / "scale")

    figures = figures_of(start, default, big)
    notes: dict[str, str] = {}
    for prefix, change in (("", default.get("change")), ("scale_", big.get("scale_change"))):
        if change and change["samples"] < change["of"]:
            notes[f"{prefix}change_median"] = f" ({change['samples']}/{change['of']} arrived)"
    if big.get("scroll"):
        worst = max(big["scroll"])
        if worst[1]:
            notes["scroll_max"] = f" (a {worst[1]} ran during it)"
    if big.get("gc_count") is not None:
        notes["gc_max"] = f" ({big['gc_count']} in the 5,000-pod phase)"
    if big.get("rows"):
        notes["scale_loaded"] = f" ({big['rows']:,} rows)"
        notes["scale_build"] = f" ({big['rows']:,} pods, {big.get('builds', 0)} builds)"
    world = "busy: --nodes 100 --pods 5000" if busy else "at rest"
    report(console, figures, notes, f"cpanel dashboard benchmark (5,000 pods {world})")

    if start.get("import_parts"):
        console.print(f"\n[bold]what `cpanel` imports before its first frame "
                      f"({start['import'] * 1000:.0f} ms):[/] " + ", ".join(
                          f"{name} {seconds * 1000:.0f} ms"
                          for name, seconds in start["import_parts"]))
    if default.get("idle_other_urls"):
        console.print("non-watch requests while idle: " + ", ".join(default["idle_other_urls"]))
    for where, result in (("start", start), ("default world", default), ("5,000 pods", big)):
        for error in result.get("errors", []):
            console.print(f"[yellow]{where}: the app raised {error}")
        for key in ("profile_start", "profile_change", "profile_filter", "profile_scroll"):
            if result.get(key):
                what = key.removeprefix("profile_")
                console.print(f"\n[bold]{where}: {what} missed its target — where the time "
                              f"goes[/]\n{result[key]}")
    console.print(f"[dim]dashboard bench took {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", action="store_true",
                        help="5,000 pods from `sandbox up --nodes 100 --pods 5000` (slower)")
    parser.add_argument("--phase", choices=("start", "default", "scale"), help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--flag", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase(args.phase, args.state, args.out, args.flag)
    else:
        main(args.busy)
