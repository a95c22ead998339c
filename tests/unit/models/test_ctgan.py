import torch

from synthgen.models.ctgan import CTGAN

BLOCKS = [("value", 1), ("flag", 1), ("onehot", 3)]


def test_training_by_sampling_evens_out_classes_by_log_frequency():
    torch.manual_seed(0)
    model = CTGAN(5, 2, {"pac": 10}, BLOCKS)
    y = torch.tensor([0] * 990 + [1] * 10)
    x = torch.zeros(len(y), 5)
    _, drawn = model._training_by_sampling(x, y)
    share = (drawn == 1).float().mean().item()
    expected = torch.log1p(torch.tensor(10.0)) / (torch.log1p(torch.tensor(10.0)) + torch.log1p(torch.tensor(990.0)))
    assert len(drawn) == 1000 and abs(share - expected.item()) < 0.05  # 1% of rows, about 27% of draws


def test_outputs_respect_each_block_kind():
    model = CTGAN(5, 2, {"pac": 2, "width": 16, "noise_dim": 8}, BLOCKS).eval()
    out = model.sample(torch.tensor([0, 1, 2, 0]), torch.Generator().manual_seed(0))
    assert out.shape == (4, 5)
    assert (out[:, 1].abs() <= 1).all()  # tanh flag
    assert torch.allclose(((out[:, 2:] + 1) / 2).sum(1), torch.ones(4))  # softmax over a category block


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    model = CTGAN(2, 0, {"pac": 1, "width": 4}, [("value", 1), ("value", 1)])
    model.critic = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        model.critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0]]))  # |grad| = 1 in the data directions
    real, fake, y = torch.randn(8, 2), torch.randn(8, 2), torch.zeros(8, dtype=torch.long)
    assert model._gradient_penalty(real, fake, y).item() < 1e-10
