"""Where the workflow keeps its intermediate state: S3 objects (in AWS and on the local stack) or a
directory (the local simulation). Arrays are ``.npz`` (uncompressed), everything else JSON.

Layout under ``runs/<run_id>/`` (see ``docs/scale.md``)::

    params.json                      the run's AlgorithmParams
    manifest.json                    sizes, partition bounds, solver choice
    partitions.json                  [{"partition": p}, ...]: the Distributed Map's S3 ItemReader input
    global/cand.npz                  packed bits: accounts that may be fresh (anti-gaming)
    p00003/graph.npz                 partition 3's edges (rows = its authors) and accounts
    p00003/meta.json                 its account keys and profiles (ids, names, previous scores)
    p00003/csr.npz                   its in-adjacency after pair aggregation, halo of engagers
    outw/q00003/p00007.npz           out-weight that partition 7's edges add to partition 3's engagers
    p00003/state.npz                 scale, teleport, volume of its accounts
    iter/0004/p00003.npz             its rows' inflow f and f * scale after pass 4
    p00003/result.npz                raw influence per account and per profile, components, ranks
    p00003/sketch.npz                quantile sketch of its profiles' raw influence
    p00003/report.json               its share of the shift report
    calibration.json                 the version's calibration table
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Store(Protocol):
    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class S3Store:
    """Objects in one bucket (the template's ``ArtifactsBucket``)."""

    def __init__(self, bucket: str, client: Any | None = None) -> None:
        if client is None:
            from functions.shared.aws import client as aws_client

            client = aws_client("s3")
        self.bucket = bucket
        self.client = client

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def get_bytes(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        found = self.client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(o["Key"] == key for o in found.get("Contents", []))


class DirStore:
    """The same layout in a local directory (simulation, unit tests)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get_bytes(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def exists(self, key: str) -> bool:
        return (self.root / key).exists()


def put_json(store: Store, key: str, value: Any) -> None:
    store.put_bytes(key, json.dumps(value, separators=(",", ":"), allow_nan=False).encode())


def get_json(store: Store, key: str) -> Any:
    return json.loads(store.get_bytes(key))


def put_arrays(store: Store, key: str, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    store.put_bytes(key, buffer.getvalue())


def get_arrays(store: Store, key: str) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(store.get_bytes(key)), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


class Layout:
    """Object keys of one run (everything under ``prefix``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.rstrip("/")

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    @property
    def params(self) -> str:
        return self.key("params.json")

    @property
    def manifest(self) -> str:
        return self.key("manifest.json")

    @property
    def items(self) -> str:
        return self.key("partitions.json")

    @property
    def cand(self) -> str:
        return self.key("global/cand.npz")

    @property
    def calibration(self) -> str:
        return self.key("calibration.json")

    def part(self, p: int, name: str) -> str:
        return self.key(f"p{p:05d}/{name}")

    def outw(self, q: int, p: int) -> str:
        return self.key(f"outw/q{q:05d}/p{p:05d}.npz")

    def iterate(self, k: int, p: int) -> str:
        return self.key(f"iter/{k:04d}/p{p:05d}.npz")
