"""``renown evaluate`` end to end on small sizes: table, JSON, docs with figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renown.cli import main


def test_json_and_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "evaluate",
        "--quick",
        "--no-higgs",
        "--version",
        "v1",
        "--version",
        "v2",
        "--only",
        "swap",
        "--only",
        "hub",
        "--only",
        "drop",
        "--json",
        "--write-docs",
        "--docs-root",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["versions"] == ["v1", "v2"]
    keys = {(c["key"], c["version"]) for c in out["cases"]}
    assert ("collusion.swap", "v2") in keys and ("breadth.edge_drop", "v1") in keys
    page = (tmp_path / "docs" / "evaluation.md").read_text()
    assert "| case | bound | v1 | holds | v2 | holds |" in page
    assert (tmp_path / "docs" / "figures" / "evaluation-attack-gains.png").stat().st_size > 1000
    assert (tmp_path / "docs" / "figures" / "evaluation-edge-drops.png").exists()


def test_table_and_unknown_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--quick", "--no-higgs", "--only", "volume"]) == 0
    text = capsys.readouterr().out
    assert "volume: same reactions" in text and "v1" in text and "yes" in text
    assert main(["evaluate", "--version", "nope", "--no-higgs"]) == 2


def _tiny_ontology(folder: Path) -> None:
    """Air Travel and Music under Leisure; entities named like airlines and bands."""
    folder.mkdir()
    (folder / "klout_topic_ontology_20180601.csv").write_text(
        '"topicId","topicSlug","topicDisplayName","wikiItemId","freebaseMachineId"\n'
        '1,"leisure","Leisure","",""\n2,"air-travel","Air Travel","",""\n3,"music","Music","",""\n'
    )
    (folder / "klout_topic_edge_20180601.csv").write_text(
        '"parentTopicId","parrentTopicSlug","childTopicId","childTopicSlug"\n'
        '1,"leisure",2,"air-travel"\n1,"leisure",3,"music"\n'
    )
    rows = ["entityId,entityDisplayName,topicId,topicDisplayName,label"]
    for i in range(40):
        rows.append(f"Q{i},Place{i} Airways,2,Air Travel,1")
        rows.append(f"Q{i},Place{i} Airways,3,Music,0")
        rows.append(f"Q{100 + i},Place{i} Band,3,Music,1")
        rows.append(f"Q{100 + i},Place{i} Band,2,Air Travel,0")
    rows.append("Q999,_display_unknown_,3,Music,0")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")


def test_topics_held_out_by_entity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "klout-topics"
    _tiny_ontology(folder)
    monkeypatch.setenv("RENOWN_TOPICS_DIR", str(folder))
    labels = str(folder / "labels.csv")
    assert main(["evaluate", "--topics", "--labels", labels, "--folds", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["folds"], out["pairs"], out["unnamed"]) == (4, 160, 1)
    # "airways" and "band" recur across entities: learned on three folds, they hold on the fourth
    assert out["auc"] > 0.9 and out["precision"] > 0.9 and out["recall"] > 0.9
    assert len(out["per_fold"]) == 4 and sum(f["pairs"] for f in out["per_fold"]) == 160
    assert main(["evaluate", "--topics", "--labels", labels, "--folds", "4"]) == 0
    text = capsys.readouterr().out
    assert "held out by entity" in text and text.count("held-out fold") == 4
