"""Distances that see through the cheap disguises of a copy (METRICS, "Calibration: invariances").

A copy is still a copy after a time shift (sequences) or after a flip or a one-pixel translation
(images), so each modality's privacy distance is the minimum over those transforms. Both functions
return, like `distance.nearest_with_index`, each query's k smallest distances to distinct reference records,
shape (n, k), and the reference indices beside them.
"""

from __future__ import annotations

import numpy as np

from synthgen.validation.distance import nearest_with_index

MAX_PAIRS = 4_000_000  # query × reference × step values held at once by the sequence distance


def shift_window(length: int) -> int:
    """Linear shifts tried: up to a tenth of the sequence, at least one step."""
    return max(1, length // 10)


def _shift_distances(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(q, r) RMS-per-value distances, minimised over every circular shift and linear shifts within
    the window (compared on the overlap). Cross-correlations for all shifts at once by FFT."""
    q, length, channels = queries.shape
    size = 2 * length
    fq = np.fft.rfft(queries, n=size, axis=1)  # (q, 2L/2+1, C)
    fr = np.fft.rfft(reference, n=size, axis=1)
    # linear cross-correlation: xc[i, j, s] = Σ_t Σ_c query_i[t + s] · ref_j[t], s in (-L, L)
    xc = np.fft.irfft(np.einsum("qfc,rfc->qrf", fq, fr.conj()), n=size, axis=2)
    sq_q, sq_r = (queries**2).sum(axis=(1, 2)), (reference**2).sum(axis=(1, 2))
    circular = xc[:, :, :length] + xc[:, :, length:]  # lag s plus lag s − L: the wrapped part
    best = (sq_q[:, None, None] + sq_r[None, :, None] - 2 * circular).min(axis=2) / (length * channels)
    # linear shifts: the overlapping steps only (cumulative sums of squares give the segment norms)
    cq = np.concatenate([np.zeros((q, 1)), np.cumsum((queries**2).sum(axis=2), axis=1)], axis=1)
    cr = np.concatenate([np.zeros((len(reference), 1)), np.cumsum((reference**2).sum(axis=2), axis=1)], axis=1)
    for s in range(-shift_window(length), shift_window(length) + 1):
        overlap = length - abs(s)
        if s >= 0:  # query[t + s] against ref[t], t < overlap
            nq, nr, cross = cq[:, length] - cq[:, s], cr[:, overlap], xc[:, :, s]
        else:  # query[t] against ref[t - s]
            nq, nr, cross = cq[:, overlap], cr[:, length] - cr[:, -s], xc[:, :, size + s]
        best = np.minimum(best, (nq[:, None] + nr[None, :] - 2 * cross) / (overlap * channels))
    return np.sqrt(np.clip(best, 0, None))


def shift_invariant_neighbours(reference: np.ndarray, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Nearest distances between sequences (records, steps, channels), invariant to time shifts."""
    reference, queries = reference.astype(np.float64), queries.astype(np.float64)
    k = min(k, len(reference))
    chunk = max(1, MAX_PAIRS // max(1, len(reference) * 2 * reference.shape[1]))
    out_d, out_i = [], []
    for start in range(0, len(queries), chunk):
        d = _shift_distances(queries[start : start + chunk], reference)
        index = np.argsort(d, axis=1, kind="stable")[:, :k]
        out_d.append(np.take_along_axis(d, index, axis=1))
        out_i.append(index)
    if not out_d:
        return np.zeros((0, k)), np.zeros((0, k), dtype=int)
    return np.concatenate(out_d), np.concatenate(out_i)


def image_views(images: np.ndarray) -> list[np.ndarray]:
    """Every view of (n, channels, h, w) images a copier could hand back: flipped either way or both,
    then moved by up to one pixel in each direction (wrapping round)."""
    views = []
    for flipped in (images, images[..., ::-1], images[..., ::-1, :], images[..., ::-1, ::-1]):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                views.append(np.roll(flipped, (dy, dx), axis=(-2, -1)))
    return views


def flip_shift_invariant_neighbours(
    reference: np.ndarray, queries: np.ndarray, k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest distances between images (pixel L2), minimised over the views of each query.

    The k nearest distinct references under the minimum over views are always among the k nearest
    of the view that attains each one's minimum, so k neighbours per view suffice."""
    flat_ref = reference.reshape(len(reference), -1).astype(np.float32)
    k = min(k, len(reference))
    found = [nearest_with_index(flat_ref, v.reshape(len(v), -1).astype(np.float32), k) for v in image_views(queries)]
    distances = np.concatenate([d for d, _ in found], axis=1)
    index = np.concatenate([i for _, i in found], axis=1)
    order = np.argsort(distances, axis=1, kind="stable")
    distances, index = np.take_along_axis(distances, order, 1), np.take_along_axis(index, order, 1)
    out_d, out_i = np.zeros((len(queries), k)), np.zeros((len(queries), k), dtype=int)
    for row in range(len(queries)):  # keep each reference once, at its smallest distance
        _, first = np.unique(index[row], return_index=True)
        keep = np.sort(first)[:k]
        out_d[row], out_i[row] = distances[row, keep], index[row, keep]
    return out_d, out_i
