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
