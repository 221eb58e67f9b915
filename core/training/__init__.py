"""Train MLPs from :class:`TrainConfig` s and record what the dashboard shows.

``train_many(configs)`` trains many runs at once, stacked (``core.training.loop``);
``train(config)`` is one of them. A run loads the data set, splits off a validation set, builds the
network (``core.network.MLP``) and the optimizer, and runs mini-batch training
(batches drawn without replacement each epoch: the article's step 1). At
``config.records`` evenly spaced *snapshots* it records telemetry
(``core.telemetry``); the result is a :class:`History` of tidy DataFrames.

Conventions (what every frame's ``step`` means):

- ``step`` counts the optimizer updates applied so far, 0 .. ``History.steps``.
  The snapshot at step k describes the weights after k updates: the
  validation metrics of those weights, the activations, gradients and batch
  statistics of the training batch that is fed to them (the forward/backward
  pass of update k+1), and the size of that update. The last snapshot (after
  the last update) feeds the last training batch once more, without updating
  anything, and reports the last update's ratio.
- Inputs are standardized with the training split's mean and std when
  ``standardize_inputs`` is true (the default), fed raw otherwise.
- Regression targets are always standardized internally with the training
  split's mean and std: the loss is the mean squared error in units of the
  target's std (1.0 = predicting the mean), and the ``accuracy`` column holds
  R² = 1 - loss, floored at -1. ``History.accuracy_name`` says which.
- ``metrics``: "train" is the mean loss (and accuracy) of the training
  batches since the previous snapshot, as the optimizer saw them (training
  mode; at step 0, the first batch); "val" is measured in eval mode on a fixed
  subset of at most 256 validation samples (the same at every snapshot).
- Divergence: a non-finite loss, or a snapshot holding a non-finite value,
  stops the run at once: ``diverged=True``, ``diverged_at`` = that step. That
  snapshot is dropped, so the curves end at the last snapshot before it and
  nothing non-finite is ever recorded.

Deterministic: the same config gives identical frames (the data, the split,
the initial weights and the batches each have their own seeded generator).

The package, one job per module: ``config`` (TrainConfig, which fields a stack
may vary), ``prepare`` (data, task, schedule), ``loop`` (the stacked loop,
``train``, ``train_many``, and ``stacks``: which runs it stacks; a sweep trains
with ``metrics_only=True``, the same runs recording the metrics alone), ``modes``
(training against evaluation mode),
``history`` (History and its frames' schemas); the telemetry is ``core.telemetry``.
"""

from core.training.config import STACKED_FIELDS, TrainConfig, stack_key
from core.training.history import MAX_POINTS, History
from core.training.loop import MAX_STACK, stacks, train, train_many
from core.training.prepare import BOUNDARY_FRAMES, BOUNDARY_RESOLUTION, VAL_PROBE

__all__ = [
    "BOUNDARY_FRAMES", "BOUNDARY_RESOLUTION", "History", "MAX_POINTS", "MAX_STACK", "STACKED_FIELDS",
    "TrainConfig", "VAL_PROBE", "stack_key", "stacks", "train", "train_many",
]
