"""Sensor data behind one object: attributes first, then whole sequences (as DoppelGANger splits it).

A tabular model learns each entity's attributes and its length (with the label as its class
target), so lengths and attributes come out jointly plausible; a sequence model then draws the
channels conditioned on the class, the encoded attributes and the length's padding mask. Each series
is standardised by its own mean and standard deviation per channel, and those are attributes too
(series_scale.py), so per-series levels keep the real spread and correlations. With train.privacy,
channels are standardised per channel over all entities instead, every statistic comes from a DP
mechanism (modalities/sensor/private.py) and both models train with DP-SGD.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthgen.config import TrainParams
from synthgen.data import constraints
from synthgen.data.schema import ColumnOverride
from synthgen.data.sequences import LENGTH, SequenceArrays, SequenceLayout, to_arrays, to_long
from synthgen.encoding.protection import protected_grid, protected_offset
from synthgen.errors import SynthgenError
from synthgen.modalities.sensor import private as dp
from synthgen.modalities.sensor import series_scale
from synthgen.modalities.tabular.synthesizer import Synthesizer
from synthgen.models.base import SequenceModel
from synthgen.registry import MODELS
from synthgen.sampling.plan import label_stream
from synthgen.synthesizer import BaseSynthesizer

log = logging.getLogger(__name__)


def _id_offset(ids: np.ndarray) -> int | None:
    """Synthetic integer ids start at the next power of ten above the real ones (holdout ids included,
    which this object never sees, as long as they are numbered like train's)."""
    if not np.issubdtype(ids.dtype, np.integer):
        return None
    return protected_offset(ids.max())


def _protected_starts(starts: np.ndarray) -> list[float]:
    """Start times to draw from: means of k or more real starts (no recording's own start), kept on
    whole seconds when the real ones are."""
    grid = protected_grid(np.sort(starts), 1000)
    return (np.round(grid) if np.allclose(starts, np.round(starts)) else grid).tolist()


class SequenceSynthesizer(BaseSynthesizer):
    """Learns a long sensor table and draws new entities in the same long format and dtypes.

    Args:
        layout: which columns are entity, time, channels, attributes and label (see `infer_layout`).
        model: a registered sequence model; default: train_params.model.
        seed: seeds scaling, both models and (by default) sampling.
        train_params: trainer settings for the sequence model.
        attributes_model: the tabular model for attributes, lengths and each series' level and spread;
            default `tabular_gaussian`, and `tabular_ar` under DP (it has a DP-SGD path). A few
            hundred entities of many correlated numbers: a Gaussian copula keeps their correlations
            and cannot learn one entity, where `tabular_ddpm`'s draws sat nearer their train
            entities than chance (README, "Sensor data").
    """

    modality = "sensor"
    default_model = "sensor_ddpm"

    def __init__(
        self,
        layout: SequenceLayout,
        model: str | None = None,
        seed: int = 0,
        train_params: TrainParams | None = None,
        attributes_model: str | None = None,
    ) -> None:
        super().__init__(model, seed, train_params)
        self.layout = layout
        self.attributes_model = attributes_model
        self.attributes: Synthesizer | None = None

    # ---- fitting -------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, where: str = "training data") -> SequenceSynthesizer:
        start = time.perf_counter()
        layout = self.layout
        arrays = to_arrays(frame, layout)
        mask = self._mask(arrays.lengths)
        layout.classes = sorted(arrays.static[layout.target].dropna().unique().tolist()) if layout.target else []
        counts = [int((arrays.static[layout.target] == c).sum()) for c in layout.classes] if layout.target else []
        private = self._private_fit(len(arrays.ids), dp.releases(layout, self.train_params.privacy.bounds), 0)
        self.attributes_model = self.attributes_model or ("tabular_ar" if private is not None else "tabular_gaussian")
        if private is None:
            self.meta = {**self._statistics(arrays, mask, counts), "series_scale": self._series_scale()}
        else:
            self.meta = {
                **dp.scaling(arrays, mask, layout, private, where),
                "n_entities": len(arrays.ids),
                "starts": dp.starts(arrays, layout, private, where),
                "id_offset": dp.id_offset(arrays.ids),
                "class_counts": dp.class_counts(counts, private, str(layout.target)) if layout.target else [],
            }
        attributes = arrays.static
        if self.meta.get("series_scale"):
            scales = series_scale.scales(arrays.values, arrays.lengths, layout.channels)
            attributes = pd.concat([attributes, scales], axis=1)
            x = series_scale.standardise(arrays.values, arrays.lengths, scales, layout.channels)
        else:
            x = self._scale(arrays.values)
        # Under DP always: whether lengths differ is itself a fact about the entities.
        varying = arrays.lengths.min() != arrays.lengths.max()
        if private is not None or layout.static or self.meta.get("series_scale") or varying:
            self._fit_attributes(attributes, where)
        static = self._encode_attributes(attributes)
        labels = self._labels(attributes)
        model = self._new_model(len(x), len(layout.channels), layout.length, len(layout.classes), static.shape[1])
        self._train(model, [x, mask, labels, static])
        if private is not None:
            self.meta["privacy"] = {**private.ledger.to_dict(), "settings": self.train_params.privacy.published()}
        log.info(
            "fit %s on %d entities x %d steps x %d channels in %.1f s",
            self.model_name,
            len(x),
            layout.length,
            len(layout.channels),
            time.perf_counter() - start,
        )
        return self

    def _statistics(self, arrays: SequenceArrays, mask: np.ndarray, counts: list[int]) -> dict[str, Any]:
        """Without DP: the real steps' mean and std per channel, protected start times and id offset."""
        valid = arrays.values[mask.astype(bool)]
        std = valid.std(axis=0)
        return {
            "mean": valid.mean(axis=0).tolist(),
            "std": np.where(std > 0, std, 1.0).tolist(),
            "n_entities": len(arrays.ids),
            "starts": _protected_starts(np.asarray(arrays.starts, dtype=float)),
            "id_offset": _id_offset(arrays.ids),
            "class_counts": counts,
        }

    def _series_scale(self) -> bool:
        """Whether each series' level and spread are attributes (series_scale.py): the model config's
        `series_scale`, on unless a spec turns it off."""
        config = MODELS.get(self.model_name).Config(**self.train_params.model_config_)
        return bool(getattr(config, "series_scale", False))

    def _fit_attributes(self, static: pd.DataFrame, where: str) -> None:
        """The tabular model of attributes and lengths, on its own default budget and the same devices and
        strategy: under DDP every rank takes part in both fits, in the same order. Under DP it spends
        its share of the budget (modalities/sensor/private.py) with noise of its own."""
        shared = ("epochs", "accelerator", "devices", "num_nodes", "strategy", "precision", "checkpoint_every",
                  "progress_every")  # fmt: skip
        params = TrainParams(
            model=self.attributes_model,
            **{k: getattr(self.train_params, k) for k in shared},
        )
        if self.private is not None:
            privacy = dp.attributes_privacy(self.train_params.privacy, self.private, self.layout)
            params = params.model_copy(update={"privacy": privacy})
        scale_columns = series_scale.columns(self.layout.channels) if self.meta.get("series_scale") else []
        self.attributes = Synthesizer(
            self.attributes_model, self.layout.target, self.seed, train_params=params,
            columns={
                LENGTH: ColumnOverride(kind="integer"),
                **{name: ColumnOverride(kind="numeric") for name in scale_columns},
            },
        )  # fmt: skip
        self.attributes.checkpoint_name = "attributes"
        self.attributes.fit(static, where=f"{where} (per-entity attributes)")
        if self.private is not None:
            for release in self.attributes.meta["privacy"]["releases"]:
                self.private.ledger.spend(f"attributes: {release['what']}", release["mechanism"],
                                          release["epsilon"], release["delta"])  # fmt: skip

    def _mask(self, lengths: np.ndarray) -> np.ndarray:
        return (np.arange(self.layout.length)[None, :] < lengths[:, None]).astype(np.float32)

    def _scale(self, values: np.ndarray) -> np.ndarray:
        if "clip" in self.meta:  # a DP fit's channel bounds
            low, high = np.asarray(self.meta["clip"]).T
            values = np.clip(values, low, high)
        return ((values - np.asarray(self.meta["mean"])) / np.asarray(self.meta["std"])).astype(np.float32)

    def _unscale(self, values: np.ndarray) -> np.ndarray:
        values = values * np.asarray(self.meta["std"]) + np.asarray(self.meta["mean"])
        if "clip" in self.meta:
            low, high = np.asarray(self.meta["clip"]).T
            values = np.clip(values, low, high)
        return values

    def _encode_attributes(self, static: pd.DataFrame) -> np.ndarray:
        if self.attributes is None or self.attributes.encoder is None:
            return np.zeros((len(static), 0), dtype=np.float32)
        return self.attributes.encoder.transform(static, self.seed)

    def _labels(self, static: pd.DataFrame) -> np.ndarray:
        if not self.layout.target:
            return np.zeros(len(static), dtype=np.int64)
        index = {c: i for i, c in enumerate(self.layout.classes)}
        return np.array([index[v] for v in static[self.layout.target].tolist()], dtype=np.int64)

    # ---- sampling ------------------------------------------------------------------------------
    def sample(
        self,
        n: int,
        conditions: dict[str, Any] | None = None,
        class_counts: dict[Any, int] | None = None,
        seed: int | None = None,
        batch_size: int = 256,
    ) -> pd.DataFrame:
        """`n` new entities (or exact `class_counts`) in the input's long format, with fresh ids."""
        model: SequenceModel = self._fitted()
        layout = self.layout
        seed = self.seed if seed is None else seed
        static = self._sample_attributes(n, conditions, class_counts, seed)
        lengths = np.clip(static[LENGTH].to_numpy(dtype=np.int64), 2, layout.length)
        encoded, labels, mask = self._encode_attributes(static), self._labels(static), self._mask(lengths)
        parts = []
        for batch in self._batches(len(static), batch_size, seed):
            tensors = [torch.as_tensor(a[batch.rows], device=batch.device) for a in (labels, mask, encoded)]
            parts.append(model.sample(*tensors, batch.generator).cpu().numpy())
        shapes = np.concatenate(parts) if parts else np.zeros((0, layout.length, len(layout.channels)))
        if self.meta.get("series_scale"):
            values = series_scale.restore(shapes, lengths, static, layout.channels)
        else:
            values = self._unscale(shapes)
        rules = constraints.parse(layout.constraints)  # normalised, monotone: kept by post-processing
        values = constraints.enforce_sequences(rules, values, lengths, layout.channels)
        rng = np.random.default_rng(seed)
        starts = rng.choice(np.asarray(self.meta["starts"]), len(static))
        return to_long(self._fresh_ids(len(static)), values, lengths, static, starts, layout)

    def _sample_attributes(
        self, n: int, conditions: dict[str, Any] | None, class_counts: dict[Any, int] | None, seed: int
    ) -> pd.DataFrame:
        layout = self.layout
        if self.attributes is not None:
            if class_counts is not None:
                return pd.concat(list(self.attributes.sample_batches(class_counts=class_counts, seed=seed)))
            return self.attributes.sample(n, conditions=conditions, seed=seed).reset_index(drop=True)
        rng = np.random.default_rng(seed)
        if class_counts is not None:
            values = np.concatenate([np.full(k, c, dtype=object) for c, k in class_counts.items()] or [[]])
        elif conditions and layout.target in conditions:
            values = np.full(n, conditions[layout.target], dtype=object)
        elif layout.target:
            values = np.asarray(layout.classes, dtype=object)[label_stream(n, self.meta["class_counts"], rng)]
        else:
            values = None
        total = len(values) if values is not None else n
        static = pd.DataFrame({LENGTH: np.full(total, layout.length)})
        if values is not None:
            unknown = set(map(str, values)) - set(map(str, layout.classes))
            if unknown:
                raise SynthgenError(
                    f"unknown class(es) {sorted(unknown)} for {layout.target!r}; known: {layout.classes}"
                )
            static[layout.target] = pd.Series(values).astype(layout.dtypes.get(layout.target, "object")).to_numpy()
        return static

    def _fresh_ids(self, n: int) -> np.ndarray:
        if self.meta.get("id_offset") is not None:
            return self.meta["id_offset"] + np.arange(n)
        return np.array([f"synthetic-{i}" for i in range(n)], dtype=object)

    # ---- persistence hooks (BaseSynthesizer.save / load) ---------------------------------------
    def _schema_payload(self) -> dict[str, Any]:
        return self.layout.to_json()

    def _config(self) -> dict[str, Any]:
        model: SequenceModel = self._fitted()
        return {**self.meta, "n_static": model.n_static, "attributes_model": self.attributes_model}

    def _save_extra(self, directory: Path) -> None:
        if self.attributes is not None:
            self.attributes.save(directory / "attributes")

    @classmethod
    def _restore(cls, config: dict[str, Any], schema: Any, path: Path) -> SequenceSynthesizer:
        layout = SequenceLayout.from_json(schema)
        synth = cls(layout, config["model"], config["seed"], attributes_model=config["attributes_model"])
        synth.meta = {k: config[k] for k in ("mean", "std", "n_entities", "starts", "id_offset", "class_counts")}
        synth.meta.update({k: config[k] for k in ("clip", "privacy", "series_scale") if k in config})
        if (path / "attributes").exists():
            synth.attributes = Synthesizer.load(path / "attributes")
        synth.model = MODELS.get(config["model"])(
            len(layout.channels), layout.length, len(layout.classes), config["n_static"], config["model_config"]
        )
        return synth
