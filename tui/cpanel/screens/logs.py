"""`l`: a pod's logs, streamed — follow, wrap, timestamps and the previous container."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from cpanel.keymap import LOGS

if TYPE_CHECKING:  # loaded with the session, after the first frame
    from cpanel_platform.kube.actions import LogStream

KEEP = 5000  # lines kept for re-wrapping; the stream starts from the last 200


class LogsScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="logs_back"), *LOGS]

    def __init__(self, api: Any, namespace: str, pod: str, container: str | None) -> None:
        super().__init__()
        self.api = api
        self.namespace, self.pod, self.container = namespace, pod, container
        self.options = {"follow": True, "wrap": False, "timestamps": False, "previous": False}
        self.lines: deque[str] = deque(maxlen=KEEP)
        self._stream: LogStream | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title(), classes="screen-title", id="logs-title")
        yield RichLog(id="logs", max_lines=KEEP, wrap=False, markup=False, highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self._open()

    def on_unmount(self) -> None:
        self._close()

    def _title(self) -> str:
        flags = "  ".join(f"{k}:{'on' if v else 'off'}" for k, v in self.options.items())
        container = f" ({self.container})" if self.container else ""
        return f"Logs {self.namespace}/{self.pod}{container}   {flags}"

    def action_toggle(self, option: str) -> None:
        self.options[option] = not self.options[option]
        self.query_one("#logs-title", Static).update(self._title())
        log = self.query_one(RichLog)
        if option == "follow":
            log.auto_scroll = self.options["follow"]
            if log.auto_scroll:
                log.scroll_end(animate=False)
        elif option == "wrap":
            log.wrap = self.options["wrap"]
            self._replay()
        else:  # timestamps and previous need a new stream
            self._open()

    def _replay(self) -> None:
        log = self.query_one(RichLog)
        log.clear()
        for line in self.lines:
            log.write(line)

    def _open(self) -> None:
        self._close()
        self.lines.clear()
        self.query_one(RichLog).clear()
        self._follow()

    def _close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    @work(thread=True, exclusive=True, group="logs")
    def _follow(self) -> None:
        from cpanel_platform.kube.actions import KubeActionError, stream_logs

        try:
            stream = stream_logs(
                self.api, self.namespace, self.pod, container=self.container,
                follow=True, timestamps=self.options["timestamps"],
                previous=self.options["previous"],
            )
        except KubeActionError as err:
            self.app.call_from_thread(self._append, [f"[cannot read logs: {err}]"])
            return
        self._stream = stream
        try:
            # A burst (the tail, a chatty pod) reaches the screen a chunk at a time.
            for lines in stream.batches():
                self.app.call_from_thread(self._append, lines)
        except KubeActionError as err:
            self.app.call_from_thread(self._append, [f"[{err}]"])

    def _append(self, lines: list[str]) -> None:
        self.lines.extend(lines)
        log = self.query_one(RichLog)
        for line in lines:
            log.write(line)
