"""The Linode API v4 emulator: LKE clusters, pools, nodes and their Linodes, volumes, DNS
and the event log, faithful enough for linode-cli and linode-api4.

    state = LinodeState(seed=1)                 # SystemClock; ManualClock to step time
    server = LinodeServer(state, {token: "sandbox"})
    await server.serve(listen(), ready)         # serving.listen: a 127.0.0.1 socket
"""

from .clock import ManualClock, SystemClock
from .lke import Listener, Timings
from .server import LinodeServer
from .state import LinodeState

__all__ = ["LinodeServer", "LinodeState", "Listener", "ManualClock", "SystemClock", "Timings"]
