"""What the model sees: one seeded stream of global batches, split across ranks, resumable mid-epoch.

Lightning would replace a `RandomSampler` by its `DistributedSampler` under DDP, which gives each
rank 1/world of one pass and so divides the budget by the number of processes. Here every rank
draws the same permutations (same seed) and takes its slice of each global batch of
`train.batch_size` rows, so a run on W processes takes the same optimizer steps and sees the same
rows as a run on one (the Trainer is built with `use_distributed_sampler=False`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes, once Lightning has joined them (else 0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class Rows(Dataset):
    """The model's batch tensors, rows first; a batch is fetched by one index, not row by row."""

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        self.tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        index = torch.as_tensor(indices, dtype=torch.long)
        return [t[index] for t in self.tensors]


def as_batch(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """`Rows.__getitems__` already stacked the batch (a module-level function, so loaders pickle)."""
    return tensors


class GlobalBatches(Sampler[list[int]]):
    """Each Lightning epoch: `passes` seeded permutations of the rows, cut into global batches of
    `batch_size`; this rank yields its share of each. An epoch's last batch with fewer rows than
    ranks is topped up from the epoch's first rows, so every rank steps together."""

    def __init__(self, n_rows: int, batch_size: int, seed: int, passes: int) -> None:
        self.n_rows, self.batch_size, self.passes = n_rows, batch_size, passes
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch_state = self.generator.get_state()  # the generator as this epoch began
        self._resume: tuple[torch.Tensor, int] | None = None
        self._sizes: list[int] = []

    def __len__(self) -> int:
        return math.ceil(self.n_rows * self.passes / self.batch_size)

    def resume_at(self, epoch_state: torch.Tensor, done: int) -> None:
        """Continue an interrupted run: the epoch that began at `epoch_state`, after `done` batches."""
        self._resume = (epoch_state, done)

    def global_rows(self, batch_idx: int) -> int:
        """Rows in global batch `batch_idx` of the current epoch, over all ranks."""
        return self._sizes[batch_idx]

    def _stream(self) -> torch.Tensor:
        return torch.cat([torch.randperm(self.n_rows, generator=self.generator) for _ in range(self.passes)])

    def __iter__(self) -> Iterator[list[int]]:
        rank, world = rank_and_world()
        skip = 0
        if self._resume is not None:
            state, skip = self._resume
            self._resume = None
            self.generator.set_state(state)
            if skip >= len(self):  # saved as that epoch ended: replay its draw, go on with the next
                self._stream()
                skip = 0
        self.epoch_state = self.generator.get_state()
        stream = self._stream()
        chunks = list(torch.split(stream, self.batch_size))
        if len(chunks[-1]) < world:
            chunks[-1] = torch.cat([chunks[-1], stream[: world - len(chunks[-1])]])
        self._sizes = [len(c) for c in chunks]
        for chunk in chunks[skip:]:
            yield torch.tensor_split(chunk, world)[rank].tolist()


def train_loader(arrays: Sequence[np.ndarray], sampler: GlobalBatches) -> DataLoader:
    # A loader generator of its own: making an iterator then draws nothing from torch's global
    # stream, which the model's steps use and a resumed run restores.
    return DataLoader(Rows(arrays), batch_sampler=sampler, collate_fn=as_batch, generator=torch.Generator())


def validation_loader(arrays: Sequence[np.ndarray], batch_size: int) -> DataLoader:
    """In order, once, the whole held-out part on every rank (so each rank computes the same loss)."""
    rows = Rows(arrays)
    batches = BatchSampler(SequentialSampler(rows), batch_size, drop_last=False)
    return DataLoader(rows, batch_sampler=batches, collate_fn=as_batch, generator=torch.Generator())
