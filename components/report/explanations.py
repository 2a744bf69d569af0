"""What each model relies on, for the report: every pushed model's own `explain` signature
(modules/attribution.py), the graph TF Serving answers explain requests with, run over the first
rows of the report's split, which nothing was fitted on.

- importance: per model, each feature column's mean |attribution| (in the explained quantity's
  units: the predicted class's probability, or the label's units);
- disagreement: per column, the mean over rows of |network A's attribution - network B's|;
- examples: the rows where the two networks' attributions differ most (L1), with their values,
  each model's prediction, baseline prediction and attributions; `index` is the row's place in
  the split as its files list it (sorted names, record order), so a served call can be compared.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping, Sequence

import numpy as np
import tensorflow as tf

from modules import names
from modules.columns import internal_key

# Rows explained: the cost (each row costs the explain signature's steps + 1 forward and
# backward passes per model) and the memory held stay bounded whatever the split's size.
EXPLAINED_ROWS = 2048
EXAMPLE_ROWS = 4
BATCH = 256


@dataclasses.dataclass
class Explanations:
    split: str
    rows: int  # rows explained
    columns: List[str]  # the feature columns, in the user's spelling
    importance: Dict[str, List[float]]  # model -> mean |attribution| per column
    disagreement: List[float]  # per column: mean |network A's attribution - network B's|
    examples: List[Dict[str, Any]]  # index, values, model -> prediction, baseline, attributions

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def _cell(feature: tf.train.Feature) -> str:
    """A raw cell as text ('' when missing), as the tf.Example holds it."""
    kind = feature.WhichOneof("kind")
    values = list(getattr(feature, kind).value) if kind else []
    if not values:
        return ""
    if isinstance(values[0], bytes):
        return values[0].decode()
    return str(values[0]) if isinstance(values[0], int) else str(np.float32(values[0]))


def row_values(serialized: bytes, columns: Sequence[str]) -> Dict[str, str]:
    """Column (user's spelling) -> the row's raw value as text."""
    feature = tf.train.Example.FromString(serialized).features.feature
    return {
        c: _cell(feature[internal_key(c)]) if internal_key(c) in feature else "" for c in columns
    }


def explain_split(
    sources: Mapping[str, str], files: Sequence[str], split: str, limit: int = EXPLAINED_ROWS
) -> Explanations:
    """Runs each model's explain signature (model -> SavedModel folder) over the first `limit`
    examples of `files` (gzipped TFRecords of one split), read once."""
    dataset = tf.data.TFRecordDataset(list(files), compression_type="GZIP").take(limit)
    serialized = [r.numpy() for r in dataset]
    if not serialized:
        raise ValueError(f"split {split!r} has no examples to explain: {list(files)}")
    outputs: Dict[str, Dict[str, List[np.ndarray]]] = {m: {} for m in sources}
    columns: List[str] = []
    for model, folder in sources.items():
        explain = tf.saved_model.load(folder).signatures[names.EXPLAIN]
        for start in range(0, len(serialized), BATCH):
            result = explain(examples=tf.constant(serialized[start : start + BATCH]))
            for key in (names.ATTRIBUTIONS, names.PREDICTION, names.BASELINE_PREDICTION):
                outputs[model].setdefault(key, []).append(result[key].numpy())
            columns = [c.decode() for c in result[names.ATTRIBUTED_COLUMNS].numpy()]
    arrays = {m: {k: np.concatenate(v) for k, v in o.items()} for m, o in outputs.items()}
    attributions = {m: a[names.ATTRIBUTIONS].astype(np.float64) for m, a in arrays.items()}
    gap = np.abs(attributions[names.NETWORK_A] - attributions[names.NETWORK_B])
    chosen = np.argsort(-gap.sum(axis=1), kind="stable")[:EXAMPLE_ROWS]
    examples = [
        {
            "index": int(i),
            "values": row_values(serialized[i], columns),
            "models": {
                m: {
                    "prediction": float(a[names.PREDICTION][i]),
                    "baseline_prediction": float(a[names.BASELINE_PREDICTION][i]),
                    "attributions": a[names.ATTRIBUTIONS][i].tolist(),
                }
                for m, a in arrays.items()
            },
        }
        for i in chosen
    ]
    return Explanations(
        split=split,
        rows=len(serialized),
        columns=columns,
        importance={m: np.abs(a).mean(axis=0).tolist() for m, a in attributions.items()},
        disagreement=gap.mean(axis=0).tolist(),
        examples=examples,
    )
