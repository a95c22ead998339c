import torch

from synthgen.models.tabular_ar import TabularAR

BLOCKS = [("value", 1), ("flag", 1), ("onehot", 3)]


def _rows() -> torch.Tensor:
    onehot = 2 * torch.nn.functional.one_hot(torch.tensor([0, 2, 1, 2]), 3).float() - 1
    return torch.cat([torch.tensor([[-2.0, 1.0], [0.1, -1.0], [1.5, -1.0], [3.0, 1.0]]), onehot], 1)


def test_tokens_decode_to_the_same_categories_flags_and_value_bins():
    model = TabularAR(5, 2, {"bins": 16}, BLOCKS)
    x = _rows()
    decoded = model._decode(model._tokens(x) - model.offsets, torch.Generator().manual_seed(0))
    assert torch.equal(decoded[:, 1:], x[:, 1:])
    bins = lambda v: (torch.special.ndtr(v) * 16).long().clamp(max=15)  # noqa: E731
    assert torch.equal(bins(decoded[:, 0]), bins(x[:, 0]))


def test_each_position_only_predicts_its_own_tokens():
    model = TabularAR(5, 2, {"bins": 16}, BLOCKS).eval()
    labels = torch.tensor([0, 1, 2] * 30)
    tokens = model._tokens(model.sample(labels, torch.Generator().manual_seed(0)))
    local = tokens - model.offsets
    assert (local >= 0).all() and (local[:, 0] < 16).all() and (local[:, 1] < 2).all() and (local[:, 2] < 3).all()


def test_a_later_token_never_changes_an_earlier_prediction():
    model = TabularAR(5, 1, {"bins": 16, "dropout": 0.0}, BLOCKS).eval()
    tokens = model._tokens(_rows())
    prefix = torch.cat([torch.full((4, 1), model.vocab), tokens[:, :-1]], 1)
    changed = prefix.clone()
    changed[:, 2] = model.offsets[1] + 1 - (changed[:, 2] - model.offsets[1])  # flip the flag token
    diff = torch.nan_to_num(model._logits(prefix) - model._logits(changed)).abs().amax(dim=(0, 2))
    assert torch.all(diff[:2] == 0) and diff[2] > 0


def test_training_lowers_the_loss():
    torch.manual_seed(0)
    model = TabularAR(5, 1, {"bins": 8}, BLOCKS)
    x, y = _rows().repeat(64, 1), torch.zeros(256, dtype=torch.long)
    before = model.loss(x, y).item()
    opt = model.configure_optimizers()
    for _ in range(100):
        opt.zero_grad()
        model.loss(x, y).backward()
        opt.step()
    assert model.loss(x, y).item() < 0.5 * before


def test_cached_sampling_steps_match_the_full_sequence():
    model = TabularAR(5, 2, {"bins": 16}, BLOCKS).eval()
    tokens = model._tokens(_rows())
    prefix = torch.cat([torch.full((4, 1), model.vocab + 1), tokens[:, :-1]], 1)
    full = model._logits(prefix)
    caches = model._empty_caches(4, torch.device("cpu"))
    for position in range(3):
        step = model._next_logits(prefix[:, position : position + 1], position, caches)
        own = slice(int(model.offsets[position]), int(model.offsets[position]) + model.sizes[position])
        torch.testing.assert_close(step, full[:, position, own], atol=1e-5, rtol=1e-5)


def test_the_per_position_loss_is_the_vocabulary_wide_one_dp_sgd_trains_on():
    torch.manual_seed(0)
    model = TabularAR(5, 2, {"bins": 16, "dropout": 0.0}, BLOCKS)
    x, y = _rows().repeat(8, 1), torch.tensor([0, 1] * 16)
    own = model.loss(x, y)
    own.backward()
    own_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.per_example_loss = True
    wide = model.loss(x, y)
    wide.backward()
    torch.testing.assert_close(own, wide)
    for a, p in zip(own_grads, model.parameters(), strict=True):
        torch.testing.assert_close(a, p.grad)
