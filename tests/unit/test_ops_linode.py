"""The Linode calls of a long operation ride out 429s and 5xx, waiting as asked."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from cpanel_platform.ops.linode_ops import LinodeOps, OpsError
from linode_api4 import ApiError


def _error(status: int, retry_after: str | None = None) -> ApiError:
    response = requests.Response()
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return ApiError("failed", status=status, json={"errors": [{"reason": "nope"}]},
                    response=response)


class Answers:
    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, path: str, **kwargs: Any) -> Any:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _ops(monkeypatch: pytest.MonkeyPatch, answers: Answers, **kwargs: Any
         ) -> tuple[LinodeOps, list[float], list[str]]:
    waits: list[float] = []
    said: list[str] = []
    ops = LinodeOps("token", "http://127.0.0.1:1/v4", said.append, sleep=waits.append, **kwargs)
    monkeypatch.setattr(ops.client, "get", answers)
    monkeypatch.setattr(ops.client, "put", answers)
    return ops, waits, said


def test_429_waits_as_asked_and_5xx_backs_off(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = Answers(_error(429, "7"), _error(503), _error(500), {"k8s_version": "1.37"})
    ops, waits, said = _ops(monkeypatch, answers)
    assert ops.cluster(1) == {"k8s_version": "1.37"}
    assert waits == [7.0, 2.0, 4.0]
    assert "rate limited (429)" in said[0] and "HTTP 503" in said[1]


def test_a_refusal_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = Answers(_error(400))
    ops, waits, _ = _ops(monkeypatch, answers)
    with pytest.raises(OpsError, match=r"refused PUT /lke/clusters/1/pools/2 \(HTTP 400: nope\)"):
        ops.set_count(1, 2, 4)
    assert waits == [] and answers.calls == 1


def test_retrying_stops_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = Answers(*[_error(503)] * 10)
    ops, _, _ = _ops(monkeypatch, answers, retry_for=0.0)
    with pytest.raises(OpsError, match=r"kept failing GET /lke/clusters/1 \(HTTP 503\)"):
        ops.cluster(1)


def test_no_token_is_a_clear_error() -> None:
    with pytest.raises(OpsError, match="no Linode token"):
        LinodeOps(None, "http://127.0.0.1:1/v4", print)
