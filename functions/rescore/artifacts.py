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
                                     (its index is also what partition 7 reads of partition 3's rows)
    p00003/state.npz                 scale, teleport, out-weight of its accounts, its send plan
    xchg/c-p00003.bin                teleport * scale of the rows others read, consumer by consumer
    xchg/offsets-p00003.bin          where each consumer's slice starts
    p00003/recv.npz                  where partition 3 reads its halo (owner, byte range)
    iter/0004/p00003.npz             its rows' inflow f after pass 4
    iter/0004/send-p00003.bin        f * scale of the rows others read (ranged GETs)
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

from functions.shared.aws import client as aws_client


class ArtifactStore(Protocol):
    """Where a run's intermediate objects live: keys to bytes, with ranged reads."""

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def get_range(self, key: str, start: int, end: int) -> bytes: ...


class S3ArtifactStore:
    """Objects in one bucket (the template's ``ArtifactsBucket``)."""

    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self.client = client if client is not None else aws_client("s3")

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def get_bytes(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        found = self.client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(o["Key"] == key for o in found.get("Contents", []))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of an object (one ranged GET)."""
        if end <= start:
            return b""
        reply = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        body: bytes = reply["Body"].read()
        return body


class DirArtifactStore:
    """The same layout in a local directory (simulation, unit tests)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.read_bytes = 0  # what a worker would download (the simulation reports it)
        self.reads = 0

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get_bytes(self, key: str) -> bytes:
        data = (self.root / key).read_bytes()
        self.read_bytes += len(data)
        self.reads += 1
        return data

    def exists(self, key: str) -> bool:
        return (self.root / key).exists()

    def get_range(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        with (self.root / key).open("rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
        self.read_bytes += len(data)
        self.reads += 1
        return data


def put_json(store: ArtifactStore, key: str, value: Any) -> None:
    store.put_bytes(key, json.dumps(value, separators=(",", ":"), allow_nan=False).encode())


def get_json(store: ArtifactStore, key: str) -> Any:
    return json.loads(store.get_bytes(key))


def put_arrays(store: ArtifactStore, key: str, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    store.put_bytes(key, buffer.getvalue())


def get_arrays(store: ArtifactStore, key: str) -> dict[str, np.ndarray]:
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

    def send(self, k: int, p: int) -> str:
        """``f * scale`` after pass ``k`` of the rows of ``p`` that other partitions read (raw float64,
        consumer by consumer: each reads its slice with one ranged GET)."""
        return self.key(f"iter/{k:04d}/send-p{p:05d}.bin")

    def send_c(self, p: int) -> str:
        """``teleport * scale`` of the same rows (static)."""
        return self.key(f"xchg/c-p{p:05d}.bin")

    def offsets(self, p: int) -> str:
        """Where each consumer's slice starts in ``p``'s send objects (raw int64, P + 1 values)."""
        return self.key(f"xchg/offsets-p{p:05d}.bin")
