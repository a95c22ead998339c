import torch

from synthgen.models.tvae import TVAE


def test_sampling_is_seeded_and_shaped():
    model = TVAE(n_features=5, n_classes=2, config={"width": 16, "latent": 4}).eval()
    labels = torch.tensor([0, 1, 2])
    a = model.sample(labels, torch.Generator().manual_seed(0))
    assert a.shape == (3, 5) and torch.equal(a, model.sample(labels, torch.Generator().manual_seed(0)))


def test_training_lowers_the_loss():
    torch.manual_seed(0)
    model = TVAE(n_features=3, n_classes=0, config={"width": 32, "latent": 2})
    x, y = torch.randn(256, 3) * 0.1 + 1.0, torch.zeros(256, dtype=torch.long)
    before = model.loss(x, y, generator=torch.Generator().manual_seed(0)).item()
    opt = model.configure_optimizers()
    for _ in range(200):
        opt.zero_grad()
        model.loss(x, y).backward()
        opt.step()
    assert model.loss(x, y, generator=torch.Generator().manual_seed(0)).item() < 0.5 * before
