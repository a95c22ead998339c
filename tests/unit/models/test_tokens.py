import torch
from torch.nn import functional as F

from synthgen.models.tabular_mlp_ar import TabularMLPAR
from synthgen.models.tokens import draw_tokens, position_blocks


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


def test_categories_first_generates_the_category_blocks_first_and_decodes_to_the_encoders_layout():
    blocks = [("value", 1), ("flag", 1), ("onehot", 3), ("value", 1), ("onehot", 2)]
    assert position_blocks(blocks, "schema") == [0, 1, 2, 3, 4]
    assert position_blocks(blocks, "categories_first") == [2, 4, 0, 1, 3]
    model = TabularMLPAR(8, 1, {"bins": 16, "order": "categories_first"}, blocks)
    assert model.sizes == [3, 2, 16, 2, 16]
    g = torch.Generator().manual_seed(0)
    x = torch.cat(
        [
            torch.randn(500, 1, generator=g),
            torch.randint(0, 2, (500, 1), generator=g) * 2.0 - 1,
            2 * F.one_hot(torch.randint(0, 3, (500,), generator=g), 3) - 1.0,
            torch.randn(500, 1, generator=g),
            2 * F.one_hot(torch.randint(0, 2, (500,), generator=g), 2) - 1.0,
        ],
        1,
    )
    tokens = model._tokens(x)
    assert torch.equal(tokens[:, 0] - model.offsets[0], x[:, 2:5].argmax(1))  # the first category block leads
    decoded = model._decode(tokens - model.offsets, g)
    assert torch.equal(decoded[:, [1, 2, 3, 4, 6, 7]], x[:, [1, 2, 3, 4, 6, 7]])  # flags and categories exactly
    assert torch.equal(model._tokens(decoded), tokens)  # numbers back into their own bins


def test_auto_order_offers_each_distinct_order_and_a_given_order_alone():
    numbers_first, categories_first = [("value", 1), ("onehot", 3)], [("onehot", 3), ("value", 1)]
    assert [c["order"] for c in TabularMLPAR.candidate_configs({"bins": 16}, numbers_first)] == [
        "schema",
        "categories_first",
    ]
    assert TabularMLPAR.candidate_configs({"order": "auto"}, categories_first) == [{"order": "schema"}]
    assert TabularMLPAR.candidate_configs({"order": "categories_first"}, numbers_first) == [
        {"order": "categories_first"}
    ]


def test_each_rows_loss_averages_to_the_training_loss_in_both_token_models():
    from synthgen.models.tabular_ar import TabularAR

    blocks = [("value", 1), ("flag", 1), ("onehot", 3)]
    g = torch.Generator().manual_seed(0)
    x = torch.cat(
        [
            torch.randn(64, 1, generator=g),
            torch.randint(0, 2, (64, 1), generator=g) * 2.0 - 1,
            2 * F.one_hot(torch.randint(0, 3, (64,), generator=g), 3) - 1.0,
        ],
        1,
    )
    y = torch.randint(0, 2, (64,), generator=g)
    for cls in (TabularMLPAR, TabularAR):
        torch.manual_seed(0)
        model = cls(5, 2, {"bins": 8}, blocks).eval()
        rows = model.row_losses(x, y)
        assert rows.shape == (64,) and rows.std() > 0  # rows differ: a standard error has something to measure
        torch.testing.assert_close(rows.mean(), model.loss(x, y))
