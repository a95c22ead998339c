import pytest
import torch

from synthgen.models.tabular_ar import TabularAR
from synthgen.models.tabular_mlp_ar import TabularMLPAR, sized_learning_rate, sized_weight_decay

BLOCKS = [("value", 1), ("flag", 1), ("onehot", 3)]


def _model(**config) -> TabularMLPAR:
    return TabularMLPAR(5, 2, {"bins": 16, "dropout": 0.0, **config}, BLOCKS).eval()


def _tokens(model: TabularMLPAR, n: int = 64) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.stack([torch.randint(0, size, (n,), generator=g) for size in model.sizes], 1) + model.offsets


def test_a_later_column_never_changes_an_earlier_columns_hidden_state():
    model = _model()
    tokens, labels = _tokens(model), torch.zeros(64, dtype=torch.long)
    changed = tokens.clone()
    changed[:, 1] = model.offsets[1] + 1 - (changed[:, 1] - model.offsets[1])  # flip the flag column
    diff = (model._hidden(tokens, labels) - model._hidden(changed, labels)).abs().amax(dim=(0, 2))
    assert torch.all(diff[:2] == 0) and diff[2] > 0  # only column 2 reads column 1


def test_the_class_reaches_every_column():
    model = _model()
    tokens = _tokens(model)
    zeros = torch.zeros(64, dtype=torch.long)
    diff = model._hidden(tokens, zeros) - model._hidden(tokens, zeros + 1)
    assert torch.all(diff.abs().amax(dim=(0, 2)) > 0)


def test_sampling_steps_compute_the_trained_logits():
    model = _model()
    tokens, labels = _tokens(model), torch.randint(0, 3, (64,), generator=torch.Generator().manual_seed(2))
    hidden = model._hidden(tokens, labels)
    inputs = torch.cat([labels[:, None], tokens[:, :-1] + model.n_classes + 1], 1)  # rows of the looked-up shares
    contributions = model._contributions()
    for j in range(len(model.sizes)):
        trained = model._position_logits(hidden[:, j], j)
        assert torch.allclose(model._next_logits(inputs, contributions, j), trained, atol=1e-5)


@pytest.mark.parametrize("order", ["schema", "categories_first"])  # the flag, then the category; or the reverse
def test_it_learns_a_column_that_copies_another_and_samples_it(order: str):
    torch.manual_seed(0)
    model = TabularMLPAR(5, 1, {"bins": 8, "order": order}, BLOCKS)
    g = torch.Generator().manual_seed(0)
    flag = torch.randint(0, 2, (512,), generator=g)
    category = torch.where(flag == 1, 2, torch.randint(0, 2, (512,), generator=g))  # flag set => category 2
    onehot = 2 * torch.nn.functional.one_hot(category, 3) - 1.0
    x = torch.cat([torch.randn(512, 1, generator=g), (2 * flag - 1)[:, None].float(), onehot], 1)
    y = torch.zeros(512, dtype=torch.long)
    opt = model.configure_optimizers()
    for _ in range(300):
        opt.zero_grad()
        model.loss(x, y).backward()
        opt.step()
    sampled = model.eval().sample(torch.ones(4000, dtype=torch.long), torch.Generator().manual_seed(3))
    flag_set = sampled[:, 1] > 0
    assert 0.4 < flag_set.float().mean() < 0.6
    assert (sampled[flag_set, 2:].argmax(1) == 2).float().mean() > 0.97  # can fail: an untrained model is at 1/3


def test_sampling_is_reproducible_from_the_generator():
    model = _model()
    labels = torch.tensor([0, 1, 2] * 20)
    a = model.sample(labels, torch.Generator().manual_seed(5))
    b = model.sample(labels, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a, model.sample(labels, torch.Generator().manual_seed(6)))


def test_weight_decay_is_sized_from_the_training_rows_unless_set():
    assert TabularMLPAR.sized_config({}, 300)["weight_decay"] == sized_weight_decay(300) == 3.0
    assert sized_weight_decay(2000) == 3.0 and sized_weight_decay(20000) == pytest.approx(3e-4)
    assert TabularMLPAR.sized_config({"weight_decay": 1e-5}, 300)["weight_decay"] == 1e-5
    built_outside_a_fit = TabularMLPAR(5, 2, {"bins": 16}, BLOCKS)
    assert built_outside_a_fit.configure_optimizers().defaults["weight_decay"] == 3.0
    assert "weight_decay" not in TabularAR.sized_config({}, 300)  # the transformer keeps its own 1e-5


def test_learning_rate_follows_the_decay_from_the_small_table_rate_to_the_default_unless_set():
    assert TabularMLPAR.sized_config({}, 300)["learning_rate"] == sized_learning_rate(2000) == 0.003
    assert 0.001 < sized_learning_rate(3000) < 0.003 and sized_learning_rate(11000) == 0.001
    assert TabularMLPAR.sized_config({"learning_rate": 0.01}, 300)["learning_rate"] == 0.01
    assert TabularMLPAR(5, 2, {"bins": 16}, BLOCKS).configure_optimizers().defaults["lr"] == 0.003
    assert "learning_rate" not in TabularAR.sized_config({}, 300)  # the transformer keeps its own 1e-3


def test_the_biases_are_not_decayed_and_everything_else_is():
    model = _model(weight_decay=3.0)
    groups = model.configure_optimizers().param_groups
    names = {id(p): name for name, p in model.named_parameters()}
    by_decay = {g["weight_decay"]: sorted(names[id(p)] for p in g["params"]) for g in groups}
    assert by_decay == {3.0: ["head.weight", "inner", "token.weight"], 0.0: ["head.bias", "inner_bias"]}
