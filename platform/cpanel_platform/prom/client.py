"""Prometheus over prometheus-api-client: where it is, and the catalogue's queries for the
visible panes, run concurrently, with the last good answers kept while it is away."""

from __future__ import annotations

import ast
import contextlib
import json
import re
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from ..config import ConfigError, Settings
from ..endpoint import HttpEndpoint
from ..freshness import Freshness, State
from ..kube.client import KubeTarget, service_proxy
from ..netreason import network_reason, one_line
from .catalogue import Query, SliSource, for_panes, queries
from .results import Results, Sample, Series

STALE_AFTER = 30.0  # seconds of failing before RECONNECTING turns STALE
WORKERS = 6  # Prometheus answers in milliseconds; a few at once keep a refresh short
QUERY_ERRORS = (400, 422)  # bad_data / execution errors: that query is wrong, not Prometheus


def resolve(settings: Settings, env: Mapping[str, str], target: KubeTarget | None) -> HttpEndpoint:
    """settings.prometheus.url, else $PROMETHEUS_URL, else the Service through the Kubernetes
    API's service proxy (no port-forward needed)."""
    url = settings.prometheus.url or env.get("PROMETHEUS_URL")
    if url:
        return HttpEndpoint(url.rstrip("/"))
    if target is None:
        raise ConfigError(
            "no Prometheus: set prometheus.url or PROMETHEUS_URL, or choose a kube context"
        )
    p = settings.prometheus
    return service_proxy(target, p.namespace, p.service, p.port)


class _QueryFailed(Exception):
    """Prometheus refused this one query (bad PromQL, or it failed to execute)."""


class _Unreachable(Exception):
    """Prometheus itself did not answer properly; the message is a one-line reason."""


class PromSource:
    """The catalogue's queries against one Prometheus. `refresh` never raises for network
    problems: `freshness` says what went wrong and the last answers are returned."""

    def __init__(
        self, endpoint: HttpEndpoint, source: SliSource = "requests", timeout: float = 5.0
    ) -> None:
        self.endpoint = endpoint
        self.source: SliSource = source
        self.timeout = timeout
        self.errors: dict[str, str] = {}  # query name → why Prometheus refused it
        session = requests.Session()
        session.verify = endpoint.verify
        session.cert = endpoint.cert
        self._prom = PrometheusConnect(
            url=endpoint.url,
            headers=dict(endpoint.headers),
            # No retries: the next refresh is the retry, and a refresh must not stall.
            retry=Retry(total=0, raise_on_status=False),
            session=session,
            timeout=timeout,
        )
        self._last: dict[str, tuple[Sample, ...] | tuple[Series, ...]] = {}
        self._freshness = Freshness("prometheus")
        self._lock = threading.Lock()

    @property
    def freshness(self) -> Freshness:
        return self._freshness

    def refresh(self, visible: set[str], now: datetime | None = None) -> Results:
        """Run the queries of the `visible` panes (and the header) as of `now`; the answers,
        merged with the last good answers of the queries not run this time."""
        now = now or datetime.now(UTC)
        wanted = for_panes(queries(self.source, now), visible)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = list(pool.map(lambda q: self._outcome(q, now), wanted))
        with self._lock:
            unreachable = ""
            for query, outcome in zip(wanted, outcomes, strict=True):
                if isinstance(outcome, _Unreachable):
                    unreachable = unreachable or str(outcome)
                elif isinstance(outcome, _QueryFailed):
                    self._last.pop(query.name, None)
                    self.errors[query.name] = str(outcome)
                else:
                    self._last[query.name] = outcome
                    self.errors.pop(query.name, None)
            self._set_freshness(unreachable, now.timestamp())
            return dict(self._last)

    def _set_freshness(self, unreachable: str, at: float) -> None:
        if not unreachable:
            self._freshness = self._freshness.live(at)
            return
        failing = self._freshness.failing(unreachable, now=at)
        if at - failing.since >= STALE_AFTER:
            failing = failing.failing(unreachable, State.STALE, now=at)
        self._freshness = failing

    def _outcome(
        self, query: Query, now: datetime
    ) -> tuple[Sample, ...] | tuple[Series, ...] | Exception:
        try:
            if query.is_range:
                start = now - timedelta(seconds=query.span)
                data = self._prom.custom_query_range(
                    query.promql, start_time=start, end_time=now, step=f"{query.step:g}"
                )
                return tuple(_series(item) for item in data)
            data = self._prom.custom_query(query.promql, params={"time": now.timestamp()})
            return _samples(data)
        except PrometheusApiClientException as exc:
            status, message = _http_failure(exc)
            if status in QUERY_ERRORS:
                return _QueryFailed(message)
            return _Unreachable(f"HTTP {status} from {self.endpoint.describe()}: {message}")
        except requests.Timeout:
            return _Unreachable(
                f"no answer from {self.endpoint.describe()} within {self.timeout:g}s"
            )
        except requests.ConnectionError as exc:
            return _Unreachable(f"{network_reason(exc)}: {self.endpoint.describe()}")
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            # An answer that is not Prometheus's JSON: something else is at that address.
            return _Unreachable(f"unexpected answer from {self.endpoint.describe()}: {exc}")


def _samples(data: Any) -> tuple[Sample, ...]:
    if data and not isinstance(data[0], dict):  # a scalar or string result: [time, "value"]
        return (Sample({}, float(data[1])),)
    return tuple(Sample(item.get("metric", {}), float(item["value"][1])) for item in data)


def _series(item: dict[str, Any]) -> Series:
    points = tuple((float(t), float(v)) for t, v in item.get("values", ()))
    return Series(item.get("metric", {}), points)


_STATUS = re.compile(r"HTTP Status Code (\d+) \((.*)\)\s*$", re.DOTALL)


def _http_failure(exc: PrometheusApiClientException) -> tuple[int, str]:
    """The status and Prometheus's own error text; the client only gives them as a message
    ("HTTP Status Code 400 (b'{...}')")."""
    match = _STATUS.search(str(exc))
    if not match:
        return 0, str(exc)
    status, body = int(match.group(1)), match.group(2)
    try:
        raw = ast.literal_eval(body)
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    except (ValueError, SyntaxError):
        text = body
    with contextlib.suppress(ValueError, AttributeError):  # not JSON: as it is
        answer = json.loads(text)  # Prometheus's {"error"} or a Kubernetes Status's {"message"}
        text = answer.get("error") or answer.get("message") or text
    return status, one_line(text) or f"HTTP {status}"
