import pytest
from cpanel_platform.sandbox.kubeapi.errors import ApiError
from cpanel_platform.sandbox.kubeapi.selectors import (
    parse_field_selector,
    parse_label_selector,
    selector_from_dict,
    selector_to_string,
)

LABELS = {"app": "web", "tier": "front", "env": "prod"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web,tier=front", True),
        ("app!=web", False),
        ("app in (web, api)", True),
        ("app notin (web)", False),
        ("tier", True),
        ("!tier", False),
        ("!missing,env in (prod)", True),
        ("missing!=x", True),
        ("app=web,env=dev", False),
    ],
)
def test_label_selector_syntax(text: str, matches: bool) -> None:
    assert parse_label_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("text", ["app in (", "a b", "=x", "-bad-=x", "app=(x)", "x=" + "v" * 64])
def test_invalid_label_selectors_are_400(text: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_label_selector(text)
    assert err.value.code == 400


def test_selector_objects_and_round_trip() -> None:
    sel = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "qa"]}],
    }
    assert selector_from_dict(sel).matches(LABELS)
    assert not selector_from_dict(None).matches(LABELS)  # nil selects nothing
    assert selector_from_dict({}).matches({})  # empty selects everything
    text = selector_to_string(sel)
    assert text == "app=web,env in (prod,qa)"
    assert parse_label_selector(text).matches(LABELS)


def test_field_selector_uses_the_kinds_fields() -> None:
    fields = {
        "metadata.name": "metadata.name",
        "spec.nodeName": "spec.nodeName",
        "status.phase": "status.phase",
    }
    pod = {"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    assert parse_field_selector("spec.nodeName=n1,status.phase!=Failed", fields).matches(pod)
    assert not parse_field_selector("spec.nodeName=n2", fields).matches(pod)
    assert parse_field_selector("spec.nodeName==", fields).matches({"metadata": {}, "spec": {}})
    with pytest.raises(ApiError) as err:
        parse_field_selector("spec.schedulerName=x", fields)
    assert err.value.code == 400 and "field label not supported" in err.value.message
