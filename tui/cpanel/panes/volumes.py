"""Volumes (PVC IO): each claim traced to its Linode volume and the device on its node,
with the USE figures — utilisation, saturation, throughput and IOPS over 5 minutes."""

from __future__ import annotations

from typing import Any

from cpanel_platform.kube.kinds import PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES
from cpanel_platform.views.common import size
from cpanel_platform.views.volumes import VolumeRow, VolumesView, volumes_view
from rich.console import RenderableType
from rich.text import Text

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.cells import ROW_STYLE, number, percent, sparkline
from cpanel.widgets.table import Column, Row

MB = 1e6
HISTORY_WIDTH = 24
# The sparkline's scale: 0 to the busiest point, but never under 25%, so a quiet volume
# stays low instead of its noise filling the bars (the UTIL column has the figure).


class VolumesPane(TablePane):
    pane_id = "volumes"
    title = "Volumes"
    aliases = ("pvc", "pvcs", "io", "volumes", "vol", "persistentvolumeclaims")
    kinds = (PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES)
    prometheus = True
    linode = True
    detail_height = 3
    columns = (
        Column("claim", "CLAIM", 30, sort_letter="C"),
        Column("volume", "VOLUME", 10, sort_letter="V"),
        Column("device", "NODE:DEVICE", 32, sort_letter="D"),
        Column("used", "USED", align="right", sort_letter="E"),
        Column("util", "UTIL", align="right", sort_letter="U"),
        Column("sat", "QUEUE", align="right", sort_letter="Q"),
        Column("read", "R MB/s", align="right", sort_letter="A"),
        Column("write", "W MB/s", align="right", sort_letter="W"),
        Column("iops", "IOPS r/w", align="right", sort_letter="I"),
        Column("history", "UTIL 6h", HISTORY_WIDTH, sort_letter="H"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view: VolumesView | None = None

    def build(self, now: float) -> tuple[VolumesView, list[Row]]:
        view = volumes_view(self.hub.objects(PERSISTENTVOLUMECLAIMS),
                            self.hub.objects(PERSISTENTVOLUMES), self.hub.linode,
                            self.hub.results, now)
        return view, [self._row(row) for row in view.rows]

    def show(self, model: tuple[VolumesView, list[Row]]) -> None:
        self.view, rows = model
        super().show(rows)

    @staticmethod
    def _row(v: VolumeRow) -> Row:
        volume = str(v.volume_id) if v.volume_id else "-"  # the label is in the detail area
        device = f"{v.node}:{v.device}" if v.device else (v.node or "-")
        used = "-"
        if v.capacity_bytes:
            used = f"{percent(v.used_ratio)} of {size(v.capacity_bytes)}" \
                if v.used_ratio is not None else size(v.capacity_bytes)
        util = Text(percent(v.utilisation), style="bold red" if v.saturated else "")
        iops = "-" if v.read_iops is None else f"{v.read_iops:.0f}/{(v.write_iops or 0):.0f}"
        mbps = [None if x is None else x / MB for x in (v.read_bps, v.write_bps)]
        cells = (f"{v.namespace}/{v.claim}", volume, device, used, util,
                 number(v.saturation, "{:.2f}"), number(mbps[0]), number(mbps[1]), iops,
                 Text(sparkline(v.history, hi=max(0.25, *v.history, 0), width=HISTORY_WIDTH),
                      style="red" if v.saturated else "cyan"))
        sort = (v.key, volume, device, v.used_ratio, v.utilisation, v.saturation, v.read_bps,
                v.write_bps, (v.read_iops or 0) + (v.write_iops or 0),
                max(v.history) if v.history else None)
        return Row(key=v.key, cells=cells, sort_values=sort, style=ROW_STYLE[v.severity], data=v)

    def detail(self, row: Row) -> RenderableType:
        v: VolumeRow = row.data
        text = Text(f"{v.namespace}/{v.claim}", style="bold")
        if v.saturated:
            text.append("  SATURATED: utilisation ≥ 90%", style="bold red")
        text.append(f"  {v.phase}  class {v.storage_class or '-'}  PV {v.pv or '-'}\n")
        text.append(f"Linode volume {v.volume_id or '-'} {v.volume_label or ''}  "
                    f"device {v.device_path or '-'}  used {size(v.used_bytes)} "
                    f"of {size(v.capacity_bytes)}")
        if v.note:
            text.append(f"\n{v.note}", style="yellow")
        if self.view is not None and not self.view.metrics:
            text.append("\nno metrics: Prometheus did not answer", style="yellow")
        return text

    def ref(self, row: Row) -> ObjectRef:
        v: VolumeRow = row.data
        return ObjectRef(PERSISTENTVOLUMECLAIMS, v.namespace, v.claim)
