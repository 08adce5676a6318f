from tests.conftest import Sandbox

def test_nothing(sandbox: Sandbox) -> None:
    pass

def test_ns(sandbox: Sandbox) -> None:
    sandbox.kubectl("create", "namespace", "zz")
    sandbox.kubectl("delete", "namespace", "zz", "--wait=false")
