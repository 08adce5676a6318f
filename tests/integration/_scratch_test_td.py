import time

from tests.conftest import Sandbox
from tests.integration.test_kube_actions import DEPLOYMENT


def test_dep(sandbox: Sandbox) -> None:
    sandbox.kubectl("create", "namespace", "zz")
    sandbox.kubectl("apply", "-n", "zz", "-f", "-", input=DEPLOYMENT)
    time.sleep(2)
    sandbox.kubectl("delete", "namespace", "zz", "--wait=false")

def test_dep_keep(sandbox: Sandbox) -> None:
    sandbox.kubectl("create", "namespace", "zy")
    sandbox.kubectl("apply", "-n", "zy", "-f", "-", input=DEPLOYMENT)
    time.sleep(2)
