import torch

from synthgen.models.sensor_ddpm import SensorDDPM


def _model(**config) -> SensorDDPM:
    return SensorDDPM(channels=2, length=8, n_classes=2, n_static=0, config={"width": 16, "cycles": 1, **config})


def test_rotation_keeps_each_full_sequence_and_leaves_padded_ones_alone():
    torch.manual_seed(0)
    model = _model(circular_shift=True)
    x = torch.arange(3 * 2 * 8, dtype=torch.float32).reshape(3, 2, 8)
    mask = torch.ones(3, 8)
    mask[2, 6:] = 0  # a shorter, padded sequence
    rotated = model._rotated(x, mask)
    assert not torch.equal(rotated[:2], x[:2])
    for i in range(2):
        shift = int((rotated[i, 0, 0] - x[i, 0, 0]).item())
        assert torch.equal(rotated[i], torch.roll(x[i], -shift, dims=1))
    assert torch.equal(rotated[2], x[2])


def test_circular_shift_drops_the_position_embedding():
    assert _model().net.position is not None and _model(circular_shift=True).net.position is None


def test_sampling_is_seeded_shaped_and_uses_the_ema_weights():
    model = _model(sampling_steps=4).eval()
    labels, mask, static = torch.tensor([0, 1, 2]), torch.ones(3, 8), torch.zeros(3, 0)
    a = model.sample(labels, mask, static, torch.Generator().manual_seed(0))
    assert a.shape == (3, 8, 2)
    assert torch.equal(a, model.sample(labels, mask, static, torch.Generator().manual_seed(0)))
    with torch.no_grad():
        for p in model.net.parameters():
            p.add_(1.0)  # the training weights move; samples come from the EMA copy
    assert torch.equal(a, model.sample(labels, mask, static, torch.Generator().manual_seed(0)))


def test_opacus_per_sample_gradients_equal_each_sequence_alone():
    """DP-SGD clips what GradSampleModule computes per sequence: it must be that sequence's own gradient
    (the position embedding included)."""
    from opacus import GradSampleModule

    torch.manual_seed(0)
    net = _model().net
    x, mask, target = torch.randn(4, 2, 8), torch.ones(4, 8), torch.randn(4, 2, 8)
    mask[0, 5:] = 0
    t, y, static = torch.randint(0, 1000, (4,)), torch.tensor([0, 1, 2, 0]), torch.zeros(4, 0)
    hooks = GradSampleModule(net, loss_reduction="sum")
    ((net(x, mask, t, y, static) - target) ** 2).mean((1, 2)).sum().backward()
    per_sample = {name: p.grad_sample.clone() for name, p in net.named_parameters()}
    hooks.remove_hooks()
    assert "position.weight" in per_sample
    for i in range(4):
        net.zero_grad()
        one = slice(i, i + 1)
        ((net(x[one], mask[one], t[one], y[one], static[one]) - target[one]) ** 2).mean().backward()
        for name, p in net.named_parameters():
            torch.testing.assert_close(per_sample[name][i], p.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_the_loss_counts_the_padded_tail_and_under_dp_weighs_each_sequence_alike_and_old_weights_load():
    torch.manual_seed(0)
    model = _model()
    x, mask = torch.randn(3, 8, 2), torch.ones(3, 8)
    mask[0, 2:] = 0  # one short sequence
    y, static = torch.tensor([0, 1, 0]), torch.zeros(3, 0)
    pooled = model.loss(x, mask, y, static, torch.Generator().manual_seed(1))
    tail = x.clone()
    tail[0, 2:] += 5.0  # only the padded steps change
    assert not torch.isclose(model.loss(tail, mask, y, static, torch.Generator().manual_seed(1)), pooled)
    model.per_example_loss = True  # every sequence has the padded length: the same mean of means
    torch.testing.assert_close(model.loss(x, mask, y, static, torch.Generator().manual_seed(1)), pooled)
    state = model.state_dict()
    state["net.position"] = state.pop("net.position.weight")  # as saved before it was a module
    state["ema.module.position"] = state.pop("ema.module.position.weight")
    _model().load_state_dict(state)
