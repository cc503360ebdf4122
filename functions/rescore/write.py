"""The shadow write and the shift report: every partition's scores under ``SCORE#<version>`` (with
explanations, topic leaderboard entries and the score updater's rank state), then the report that
compares them with the scores of the version active before."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from core.types import NETWORKS
from functions.rescore import integrity_steps, partitioned_solve, releases
from functions.rescore import report as shift
from functions.rescore.artifacts import get_arrays, get_json, put_json
from functions.rescore.batch import write_parallel
from functions.rescore.png import histogram_png
from functions.rescore.profile_extras import scored_topics
from functions.rescore.run import (
    WRITE_THREADS,
    Run,
    artifact_store,
    check_partitions,
    maybe_fail,
    params_of,
    progress,
    table,
)
from functions.rescore.solve import beta_of
from functions.shared import aws
from functions.shared.rank_state import rank_state_items
from functions.shared.records import ExplainRecord, ScoreRecord, ShiftReportRecord
from functions.shared.score_record import score_record, topic_leaders


def score_records(
    meta: dict[str, Any],
    scores: partitioned_solve.PartitionScores,
    run: Run,
    active: bool,
    calibration: Any = None,
) -> list[ScoreRecord]:
    """``ScoreRecord`` of every linked profile of a partition, with the topics scored from the
    snapshot's topic support: the calibrated score of the rank received through each topic's posts
    (with ``calibration``), else the share rule."""
    extras = [meta["previous"].get(pid, {}) for pid in scores.profile_ids]
    topics = scored_topics(
        extras, np.clip(scores.score, 1.0, 100.0), params_of(run), scores.raw_profile, calibration
    )
    out: list[ScoreRecord] = []
    for i, pid in enumerate(scores.profile_ids):
        if pid.startswith("unlinked:"):
            continue
        prev = meta["previous"].get(pid, {})
        out.append(
            score_record(
                profile_id=pid,
                name=prev.get("name", pid),
                score=float(np.clip(scores.score[i], 1.0, 100.0)),
                raw=float(scores.raw_profile[i]),
                version=run.version,
                now=run.now,
                networks={
                    NETWORKS[n]: float(scores.network_scores[i, n])
                    for n in range(scores.network_scores.shape[1])
                    if scores.network_scores[i, n] > 0
                },
                signals={name: float(v[i]) for name, v in scores.subscores.items()},
                topics=topics[i],
                style=prev.get("style", {}),
                previous_trend=[tuple(t) for t in prev.get("trend", [])],
                active=active,
            )
        )
    return out


def _rank_items(run: Run, p: int, meta: dict[str, Any], solve: dict[str, Any]) -> list[dict[str, Any]]:
    """The score updater's per-account state under the version (``RANK#<version>``)."""
    store = artifact_store()
    res = get_arrays(store, run.layout.part(p, "result.npz"))
    state = get_arrays(store, run.layout.part(p, "state.npz"))
    engagers = state.get("engagers")
    detail_key = run.layout.part(p, "integrity.npz")
    if engagers is None and store.exists(detail_key):  # the partitioned integrity solve
        engagers = get_arrays(store, detail_key)["engagers"]
    return rank_state_items(
        meta["ids"],
        run.version,
        run.now,
        unit=float(solve["unit"]),
        beta=beta_of(solve),
        ranks=res["ranks"],
        teleport=state["teleport"],
        out_weight=state["out_weight"],
        passing=state["passing"],
        raw_account=res["raw_account"],
        components=res["comp"],
        engagers=engagers,
    )


def _explanations(
    run: Run, p: int, scores: partitioned_solve.PartitionScores, calibration: Any, solve: dict[str, Any]
) -> dict[str, Any]:
    store = artifact_store()
    key = run.layout.part(p, "explain.json")
    if store.exists(key):
        found: dict[str, Any] = get_json(store, key)
        return found
    params = params_of(run)
    if params.integrity is not None:
        man = partitioned_solve.load_manifest(store, run.layout)
        return integrity_steps.explain_partition(
            store, run.layout, man, p, params, calibration, scores, solve, run.version
        )
    return partitioned_solve.explain_partition(store, run.layout, p, params, scores, run.version)


def write_shadow(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """Partition ``p``'s scores under ``SCORE#<version>`` (plus explanations and the updater's state),
    in batches with retries; and its share of the shift report."""
    p = int(payload["partition"])
    maybe_fail(run, "write_shadow", p)
    store = artifact_store()
    meta = get_json(store, run.layout.part(p, "meta.json"))
    calibration = partitioned_solve.load_table(store, run.layout)
    scores = partitioned_solve.partition_scores(store, run.layout, p, calibration, params_of(run))
    records = score_records(meta, scores, run, active=False, calibration=calibration)
    explanations = _explanations(run, p, scores, calibration, payload["solve"])
    items = [r.to_item() for r in records]
    items += [leader.to_item() for leader in topic_leaders(records)]
    items += [
        ExplainRecord(profile_id=pid, algorithm_version=run.version, explanation=e).to_item()
        for pid, e in explanations.items()
    ]
    items += _rank_items(run, p, meta, payload["solve"])
    written = write_parallel(aws.bulk_client("dynamodb"), table().name, items, threads=WRITE_THREADS)
    linked = [i for i, pid in enumerate(scores.profile_ids) if not pid.startswith("unlinked:")]
    old = np.array(
        [meta["previous"].get(scores.profile_ids[i], {}).get("old", np.nan) for i in linked], dtype=np.float64
    )
    man = partitioned_solve.load_manifest(store, run.layout)
    part = shift.partition_part(
        [scores.profile_ids[i] for i in linked],
        [meta["previous"].get(scores.profile_ids[i], {}).get("name", "") for i in linked],
        np.round(np.clip(scores.score[linked], 1.0, 100.0), 2),
        old,
        explanations,
        shift.sample_rate(man.profiles),
    )
    put_json(store, run.layout.part(p, "report.json"), part)
    return {"partition": p, "profiles": len(records), "items": written}


def report(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """Merge the partitions' shares into the shift report; store it (S3 JSON + PNG, ``REPORT#<version>``)."""
    progress(run, "report")
    maybe_fail(run, "report")
    store = artifact_store()
    man = partitioned_solve.load_manifest(store, run.layout)
    check_partitions(payload.get("shadow"), man.partitions, "write_shadow")
    parts = [get_json(store, run.layout.part(p, "report.json")) for p in range(man.partitions)]
    against = run.previous
    merged = shift.merge_parts(parts, run.version, against)
    merged |= {
        "run_id": run.run_id,
        "solver": payload.get("snapshot", {}).get("solver"),
        "partitions": man.partitions,
        "iterations": payload.get("solve", {}).get("iterations"),
    }
    report_key = f"reports/{run.version}/{run.run_id}.json"
    plot_key = f"reports/{run.version}/{run.run_id}.png"
    put_json(store, report_key, merged)
    hist = merged["delta_histogram"]
    store.put_bytes(plot_key, histogram_png(hist["counts"], hist["edges"]))
    releases.put_shift_report(
        ShiftReportRecord(
            version=run.version,
            run_id=run.run_id,
            against=against,
            created_at=int(time.time()),
            report_key=report_key,
            plot_key=plot_key,
            report=merged,
        )
    )
    releases.set_version_report(run.version, report_key)
    summary = summary_of(merged)
    releases.set_run_fields(run.run_id, {"report_key": report_key, "summary": summary})
    return {"report_key": report_key, "plot_key": plot_key, **summary}


def summary_of(merged: dict[str, Any]) -> dict[str, Any]:
    """The shift report's headline numbers (kept on the run's record)."""
    return {
        k: merged[k]
        for k in (
            "profiles",
            "compared",
            "up",
            "down",
            "same",
            "mean_change",
            "mean_abs_change",
            "kendall_tau_b",
            "top_k_overlap",
        )
    }
