"""The score updater reads a custom release's parameters from its version record (not only built-ins)."""

from __future__ import annotations

import json

import pytest

from core.errors import RenownCoreError
from core.versions import get_version
from functions.ingest import incremental as inc


def test_a_custom_release_is_loaded_from_its_published_parameters() -> None:
    stored = json.dumps({**get_version("v2").to_dict(), "damping": 0.8})
    params = inc.load_params("v2b", stored)
    assert params.name == "v2b"
    assert params.damping == 0.8
    assert params.type_weights == get_version("v2").type_weights


def test_built_in_versions_and_bad_parameters() -> None:
    assert inc.load_params("v1") is get_version("v1")
    with pytest.raises(RenownCoreError):
        inc.load_params("v2b", None)  # neither built in nor published
    with pytest.raises(RenownCoreError):
        inc.load_params("v2b", json.dumps({"damping": 2.0}))
    with pytest.raises(RenownCoreError):
        inc.load_params("v2b", json.dumps({"no_such_parameter": 1}))
