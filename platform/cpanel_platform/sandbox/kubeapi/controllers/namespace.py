"""Namespaces: seed each with its default ServiceAccount and root CA ConfigMap, and on deletion
remove everything inside before the namespace itself goes."""

from __future__ import annotations

from ..api import NS_KEY
from ..errors import ApiError
from .base import Controller, WorkKey

_SEEDS = (
    (("", "serviceaccounts"), {"metadata": {"name": "default"}}),
    (
        ("", "configmaps"),
        {
            "metadata": {"name": "kube-root-ca.crt"},
            "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nsandbox\n-----END CERTIFICATE-----\n"},
        },
    ),
)


class NamespaceController(Controller):
    name = "namespace-controller"
    watches = frozenset({NS_KEY})
    primary = NS_KEY

    def reconcile(self, key: WorkKey) -> None:
        ns = self.api.find(*NS_KEY, "", key[1])
        if ns is None:
            return
        name = key[1]
        if not ns["metadata"].get("deletionTimestamp"):
            for seed_key, body in _SEEDS:
                if self.api.find(*seed_key, name, body["metadata"]["name"]) is None:
                    try:
                        self.api.create(self.api.preferred(*seed_key), name, body)
                    except ApiError as err:
                        if err.code != 409:
                            raise
            return
        remaining = 0
        for kind in {t.key for t in self.api.types() if t.namespaced}:
            rt = self.api.preferred(*kind)
            for obj in self.api.store.list(rt.key, name):
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete(rt, name, obj["metadata"]["name"])
        if remaining:
            self.enqueue_after(0.2, key)
        else:
            self.api.finalize_namespace(name)
