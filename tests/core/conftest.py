"""Fixtures of the core tests: the hypothesis profile and the datasets (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent

settings.register_profile(
    "core", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "core"))

DATA = Path(os.environ.get("RENOWN_DATASETS", HERE.parents[2] / "shared" / "datasets"))
HIGGS = DATA / "higgs-twitter"
TOPICS = DATA / "klout-topics"


@pytest.fixture(scope="session")
def higgs_dir() -> Path:
    if not (HIGGS / "reply_network.edgelist").exists():
        pytest.skip("Higgs dataset not available")
    return HIGGS


@pytest.fixture(scope="session")
def topics_dir() -> Path:
    if not (TOPICS / "klout_topic_ontology_20180601.csv").exists():
        pytest.skip("Klout topics dataset not available")
    return TOPICS
