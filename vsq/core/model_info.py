"""The model's interface as vsq feeds it: shapes of its inputs and outputs (Framework.describe gives one)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    """What the harness needs to know of a model's interface, whatever its framework; cached, so warm runs skip
    loading the model. of(): from a model with Keras-style inputs and outputs (tensors with a shape)."""

    input_shapes: tuple  # per input, e.g. ((None, 224, 224, 3),)
    output_shapes: tuple  # per output, e.g. ((None, 1000),)

    @classmethod
    def of(cls, model) -> "ModelInfo":
        return cls(
            input_shapes=tuple(tuple(t.shape) for t in model.inputs),
            output_shapes=tuple(tuple(t.shape) for t in model.outputs),
        )

    @property
    def num_outputs(self) -> int:
        return self.output_shapes[0][-1]
