"""What a partition reads of the others' rows (its *halo*) in the partitioned solve: the receive plan
(which slice of each owner's send objects it reads) and the values themselves, with ranged GETs."""

from __future__ import annotations

from typing import Any

import numpy as np

from functions.rescore.artifacts import ArtifactStore as Store
from functions.rescore.artifacts import Layout, get_arrays, put_arrays

Manifest = Any  # functions.rescore.partitioned_solve.Manifest (bounds, partitions)


def send_out_weights(
    store: Store, layout: Layout, man: Manifest, p: int, halo: np.ndarray, out_partial: np.ndarray
) -> None:
    """Partition ``p``'s out-weight partials of its engagers (``halo``, sorted global indices), each
    slice sent to the partition that owns those engagers (``layout.outw(q, p)``)."""
    cuts = np.searchsorted(halo, man.bounds)
    for q in range(man.partitions):
        a, b = int(cuts[q]), int(cuts[q + 1])
        if b > a:
            put_arrays(
                store,
                layout.outw(q, p),
                index=(halo[a:b] - man.bounds[q]).astype(np.int64),
                value=out_partial[a:b],
            )


def receive_plan(
    store: Store, layout: Layout, man: Manifest, q: int, halo: np.ndarray
) -> dict[str, np.ndarray]:
    """For consumer ``q``: per owner partition, the slice of the halo it owns and where that slice
    sits in the owner's send objects (read once from the owners' offsets, then kept in S3)."""
    key = layout.part(q, "recv.npz")
    if store.exists(key):
        return get_arrays(store, key)
    cuts = np.searchsorted(halo, man.bounds)
    owners, starts, a_s, b_s = [], [], [], []
    for p in range(man.partitions):
        a, b = int(cuts[p]), int(cuts[p + 1])
        if b == a:
            continue
        off = np.frombuffer(store.get_range(layout.offsets(p), 8 * q, 8 * (q + 2)), "<i8")
        if int(off[1] - off[0]) != b - a:
            raise RuntimeError(
                f"partition {p} sends {int(off[1] - off[0])} values to {q}, which reads {b - a}"
            )
        owners.append(p)
        starts.append(int(off[0]))
        a_s.append(a)
        b_s.append(b)
    plan = {
        k: np.asarray(v, dtype=np.int64)
        for k, v in (("owner", owners), ("start", starts), ("a", a_s), ("b", b_s))
    }
    put_arrays(store, key, **plan)
    return plan


def halo_values(
    store: Store, layout: Layout, man: Manifest, q: int, halo: np.ndarray, k: int, beta: float, f32: bool
) -> np.ndarray:
    """``y = float32(P + beta * C)`` (or the float64 ``z`` when not ``f32``) of consumer ``q``'s halo
    after pass ``k``: two ranged GETs per owner partition (its slice of ``P`` and of ``C``)."""
    out = np.empty(len(halo), np.float32 if f32 else np.float64)
    plan = receive_plan(store, layout, man, q, halo)
    for p, start, a, b in zip(plan["owner"], plan["start"], plan["a"], plan["b"], strict=True):
        lo, hi = 8 * int(start), 8 * (int(start) + int(b - a))
        c = np.frombuffer(store.get_range(layout.send_c(int(p)), lo, hi), "<f8")
        if k == 0:
            values = beta * c
        else:
            values = np.frombuffer(store.get_range(layout.send(k, int(p)), lo, hi), "<f8") + beta * c
        out[int(a) : int(b)] = values.astype(np.float32) if f32 else values
    return out


def own_x(store: Store, layout: Layout, p: int, k: int, beta: float, teleport: np.ndarray) -> np.ndarray:
    if k == 0:
        return teleport.copy()
    return get_arrays(store, layout.iterate(k, p))["f"] + beta * teleport


def halo_static(
    store: Store, layout: Layout, man: Manifest, q: int, halo: np.ndarray, key: Any
) -> np.ndarray:
    """A static float64 value of every row of consumer ``q``'s halo, from the owners' objects
    ``key(p)`` (written in the order of their send rows, like ``send_c``)."""
    out = np.empty(len(halo), np.float64)
    plan = receive_plan(store, layout, man, q, halo)
    for p, start, a, b in zip(plan["owner"], plan["start"], plan["a"], plan["b"], strict=True):
        lo, hi = 8 * int(start), 8 * (int(start) + int(b - a))
        out[int(a) : int(b)] = np.frombuffer(store.get_range(key(int(p)), lo, hi), "<f8")
    return out
