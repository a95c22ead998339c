import numpy as np
import torch

from synthgen.models.tabular_gaussian import TabularGaussian


def _two_classes(n: int = 2000, spread_1: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes with their own means and spreads and one shared correlation."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    shared = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 0.5]])
    means = torch.tensor([[-1.0, 0.0, 2.0], [1.0, 0.5, -2.0]])
    spreads = torch.tensor([1.0, spread_1])[y][:, None]
    return means[y] + spreads * (torch.randn(n, 3, generator=g) @ shared.T), y


def _started(x: torch.Tensor, y: torch.Tensor) -> TabularGaussian:
    model = TabularGaussian(n_features=x.shape[1], n_classes=2, config={})
    model.start_from([x.numpy(), y.numpy()])
    return model


def test_it_starts_at_each_class_mean_and_spread_and_draws_them():
    x, y = _two_classes(spread_1=3.0)
    model = _started(x, y)
    drawn = model.sample(torch.tensor([0] * 4000 + [1] * 4000), torch.Generator().manual_seed(1))
    for c in (0, 1):
        real, synthetic = x[y == c], drawn[c * 4000 : (c + 1) * 4000]
        assert torch.allclose(synthetic.mean(0), real.mean(0), atol=0.1 * (1 + 2 * c))
        assert torch.allclose(synthetic.std(0) / real.std(0), torch.ones(3), atol=0.06)  # class 1: three times
        assert abs(np.corrcoef(synthetic[:, :2].T)[0, 1] - 0.8) < 0.05  # the shared correlation
    assert torch.allclose(model.means[2], x.mean(0))  # the no-class mean: every row


def test_a_class_of_one_row_is_not_that_row():
    """Where the classes' means differ little against their spread (column 1: 0 and 0.5, spread 1), the
    single row's 5 is mostly chance and its class mean is pulled most of the way to everyone's; its
    spread is never zero."""
    x, y = _two_classes()
    x, y = torch.cat([x, torch.tensor([[5.0, 5.0, 5.0]])]), torch.cat([y, torch.tensor([2])])  # a third class
    model = TabularGaussian(n_features=3, n_classes=3, config={})
    model.start_from([x.numpy(), y.numpy()])
    assert (model.log_scales[2].exp() > 0.3).all()
    assert abs(model.means[2, 1] - x[:, 1].mean()) < 1.0
    assert torch.allclose(model.means[:2], torch.stack([x[y == c].mean(0) for c in (0, 1)]), atol=0.01)  # 1000 rows


def test_the_start_is_the_likelihoods_optimum():
    """Training from the start moves the loss by less than a thousandth: it was at the maximum (but for
    the class spreads' small shrinkage towards the pooled one)."""
    torch.manual_seed(0)
    x, y = _two_classes(spread_1=2.0)
    model = _started(x, y)
    start = model.loss(x, y).item()
    opt = model.configure_optimizers()
    for _ in range(100):
        opt.zero_grad()
        model.loss(x, y).backward()
        opt.step()
    assert abs(model.loss(x, y).item() - start) < 1e-3
    assert TabularGaussian(n_features=3, n_classes=2, config={}).loss(x, y).item() > start + 0.1  # not a no-op


def test_sampling_is_seeded_shaped_and_reads_the_class():
    model = TabularGaussian(n_features=4, n_classes=2, config={})
    with torch.no_grad():
        model.means[1] = 10.0
    labels = torch.tensor([0, 1, 2])
    a = model.sample(labels, torch.Generator().manual_seed(0))
    assert a.shape == (3, 4) and torch.equal(a, model.sample(labels, torch.Generator().manual_seed(0)))
    assert (a[1] > 5).all() and (a[[0, 2]].abs() < 5).all()
