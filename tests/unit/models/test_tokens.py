import torch

from synthgen.models.tokens import draw_tokens


def test_draws_follow_the_softmax_and_never_a_token_of_probability_zero():
    logits = torch.tensor([0.0, 1.0, -1.0, float("-inf"), 2.0]).expand(200_000, -1)
    drawn = draw_tokens(logits, 1.0, torch.Generator().manual_seed(0))
    shares = torch.bincount(drawn, minlength=5) / len(drawn)
    assert shares[3] == 0
    assert torch.allclose(shares, logits[0].softmax(0), atol=0.005)


def test_temperature_sharpens_and_the_generator_decides():
    logits = torch.tensor([[0.0, 1.0, 2.0]]).expand(50_000, -1)
    cold = draw_tokens(logits, 0.25, torch.Generator().manual_seed(0))
    assert (cold == 2).float().mean() > 0.95
    a, b = (draw_tokens(logits, 1.0, torch.Generator().manual_seed(1)) for _ in range(2))
    assert torch.equal(a, b)


def test_two_tokens_follow_the_softmax_row_by_row_and_never_a_token_of_probability_zero():
    pairs = torch.tensor([[0.0, 0.0], [2.0, -1.0], [-3.0, 0.5], [0.0, float("-inf")], [float("-inf"), 4.0]])
    logits = pairs.repeat_interleave(100_000, 0)
    drawn = draw_tokens(logits, 1.0, torch.Generator().manual_seed(0)).view(len(pairs), -1)
    shares = drawn.float().mean(1)  # the share of second tokens, per pair
    assert torch.allclose(shares, pairs.softmax(1)[:, 1], atol=0.005)
    assert shares[3] == 0 and shares[4] == 1
