"""The global batch stream: the same rows per step for any number of ranks, and resumable."""

import torch

from synthgen.training.batches import GlobalBatches


def _epoch(sampler: GlobalBatches, rank: int, world: int, monkeypatch) -> list[list[int]]:
    monkeypatch.setattr("synthgen.training.batches.rank_and_world", lambda: (rank, world))
    return list(sampler)


def test_ranks_split_each_global_batch_and_together_see_what_one_process_sees(monkeypatch):
    one = _epoch(GlobalBatches(103, 20, seed=3, passes=2), 0, 1, monkeypatch)
    for world in (2, 3):
        shares = [_epoch(GlobalBatches(103, 20, seed=3, passes=2), r, world, monkeypatch) for r in range(world)]
        assert all(len(s) == len(one) == 11 for s in shares)  # every rank steps together, as often as one process
        for step, batch in enumerate(one):
            assert sorted(sum((s[step] for s in shares), [])) == sorted(batch)


def test_a_last_batch_smaller_than_the_world_is_topped_up_so_no_rank_idles(monkeypatch):
    sampler = GlobalBatches(21, 10, seed=0, passes=1)  # last global batch: 1 row, 3 ranks
    shares = [_epoch(GlobalBatches(21, 10, seed=0, passes=1), r, 3, monkeypatch) for r in range(3)]
    assert all(len(s[-1]) == 1 for s in shares)
    _epoch(sampler, 0, 3, monkeypatch)
    assert sampler.global_rows(2) == 3 and sampler.global_rows(0) == 10


def test_resuming_mid_epoch_continues_the_same_stream(monkeypatch):
    whole = GlobalBatches(50, 8, seed=1, passes=1)
    first, second = _epoch(whole, 0, 1, monkeypatch), _epoch(whole, 0, 1, monkeypatch)
    resumed = GlobalBatches(50, 8, seed=1, passes=1)
    _epoch(resumed, 0, 1, monkeypatch)
    state = resumed.epoch_state
    again = GlobalBatches(50, 8, seed=99, passes=1)  # another seed: the state alone must decide
    again.resume_at(state, 3)
    assert _epoch(again, 0, 1, monkeypatch) == first[3:]
    again.resume_at(state, len(first))  # saved as the epoch ended: the next epoch follows
    assert _epoch(again, 0, 1, monkeypatch) == second
    assert torch.equal(torch.tensor(first[0]), torch.tensor(_epoch(GlobalBatches(50, 8, 1, 1), 0, 1, monkeypatch)[0]))
