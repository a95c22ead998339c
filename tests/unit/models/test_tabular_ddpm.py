import torch

from synthgen.models.schedules import cosine_alpha_bar
from synthgen.models.tabular_ddpm import TabularDDPM


def test_schedule_decreases_from_one_to_near_zero():
    ab = cosine_alpha_bar(1000)
    assert ab.shape == (1000,) and 0.99 < ab[0] <= 1 and ab[-1] < 1e-3 and (ab[1:] <= ab[:-1]).all()


def test_sampling_is_seeded_and_shaped():
    model = TabularDDPM(n_features=5, n_classes=2, config={"width": 16, "depth": 1, "sampling_steps": 4}).eval()
    labels = torch.tensor([0, 1, 2])
    a = model.sample(labels, torch.Generator().manual_seed(0))
    b = model.sample(labels, torch.Generator().manual_seed(0))
    assert a.shape == (3, 5) and torch.equal(a, b)


def test_a_few_steps_of_training_lower_the_loss():
    torch.manual_seed(0)
    model = TabularDDPM(n_features=3, n_classes=0, config={"width": 32, "depth": 1})
    x = torch.randn(256, 3) * 0.1 + 1.0
    y = torch.zeros(256, dtype=torch.long)
    gen = torch.Generator().manual_seed(0)
    before = model.loss(x, y, generator=gen).item()
    opt = model.configure_optimizers()
    for _ in range(200):
        opt.zero_grad()
        model.loss(x, y).backward()
        opt.step()
    after = model.loss(x, y, generator=torch.Generator().manual_seed(0)).item()
    assert after < 0.7 * before


def test_one_step_fast_path_equals_the_full_forward():
    from synthgen.models.nets.mlp import MLPDenoiser

    net = MLPDenoiser(n_features=4, n_classes=3, width=16, depth=2, dropout=0.0).eval()
    x, y = torch.randn(50, 4), torch.randint(0, 4, (50,))
    full = net(x, torch.full((50,), 17), y)
    assert torch.allclose(net.forward_one_step(x, 17, y), full, atol=1e-5)
