"""Lesson presets: one click sets up a view and says what to look for.

A lesson names a view (by its URL path) and the settings it needs, by config
field name; fields it does not name go back to their defaults, so a lesson
always shows the same thing whatever was set before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Lesson", "LESSONS", "lesson"]


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    view: str  # url_path of the view it opens
    look_for: str
    settings: dict = field(default_factory=dict)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "valley", "The article: a valley against a bowl", "landscape",
        "Raw features make a long narrow valley (condition number about 137,000): even at the best "
        "learning rate descent needs hundreds of thousands of steps. Standardized, the bowl is round and "
        "the same fraction of the stable rate gets there in a handful. Press play to watch both paths.",
        {"lr_scale": 0.5, "steps": 1000},
    ),
    Lesson(
        "deep_sigmoid", "A deep sigmoid network that trains only with batch norm", "training",
        "Ten sigmoid layers on the moons: without normalization the loss stays flat at log 2 and the "
        "boundary is blank; with batch norm the loss falls and the boundary follows the moons. "
        "Then open Activations to see why: the gradient fades layer by layer without batch norm.",
        {"dataset": "moons", "depth": 10, "activation": "sigmoid", "compare": "batch"},
    ),
    Lesson(
        "high_lr", "A learning rate only the normalized network survives", "training",
        "At learning rate 1 the plain 8-layer ReLU network blows up within a few steps (the banner says "
        "where); the same network with batch norm trains at that rate, because normalization keeps every "
        "layer's inputs at the same scale whatever the weights grow to.",
        {"dataset": "moons", "depth": 8, "activation": "relu", "init": "he", "lr": 1.0, "compare": "batch"},
    ),
    Lesson(
        "tiny_batches", "Tiny batches hurt batch norm, not layer norm", "training",
        "With 4 samples per batch, each batch's mean and std are poor estimates: batch norm's training "
        "curve is noisy and it ends below layer norm, which normalizes each sample on its own and does "
        "not care about the batch size. Move the batch size to 64 to see batch norm recover.",
        {"dataset": "moons", "depth": 4, "activation": "tanh", "batch_size": 4, "lr": 0.1, "epochs": 10,
         "compare": "both"},
    ),
    Lesson(
        "bad_init", "Bad initialisation rescued by normalization", "activations",
        "Weights drawn with std 0.01 shrink the signal a hundredfold per layer: without normalization the "
        "deep layers see almost nothing and nothing learns. Batch norm rescales every layer's inputs back "
        "to unit spread, so the same weights train. Compare the histograms down the depth.",
        {"dataset": "moons", "depth": 8, "activation": "relu", "init": "normal", "init_scale": 0.01,
         "compare": "batch"},
    ),
    Lesson(
        "train_eval", "Training mode against evaluation mode", "gamma-beta",
        "With batches of 2, batch norm's batch statistics are very noisy, and the running averages used "
        "in evaluation differ from them: look at the table of validation loss in both modes and at the "
        "batch statistics jumping around the running ones.",
        {"dataset": "moons", "depth": 4, "activation": "tanh", "batch_size": 2, "lr": 0.1, "epochs": 10,
         "compare": "batch"},
    ),
)


def lesson(key: str) -> Lesson | None:
    return next((x for x in LESSONS if x.key == key), None)
