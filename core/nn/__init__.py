"""core.nn: layers, network, losses, optimizers and initialisation, in plain numpy.

Every layer works on one batch (n, d) or on a stack of runs (R, n, d); see
``core.nn.layers``. Read it like the equations: each ``forward`` keeps what its
``backward`` needs, and each docstring gives the shapes.
"""

from core.nn.init import INITS, init_std, init_weight
from core.nn.layers import (
    ACTIVATIONS,
    NORM_LAYERS,
    BatchNorm1d,
    Dense,
    GroupNorm,
    Identity,
    Layer,
    LayerNorm,
    NoisyBatchNorm1d,
    ReLU,
    RMSNorm,
    Sigmoid,
    Tanh,
    make_activation,
    make_norm,
)
from core.nn.losses import accuracy, mse, softmax_cross_entropy
from core.nn.network import MLP, NORM_POSITIONS, NORMS, Block
from core.nn.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Optimizer, StepRecord, make_optimizer

__all__ = [
    "ACTIVATIONS", "INITS", "NORMS", "NORM_LAYERS", "NORM_POSITIONS", "OPTIMIZERS",
    "MLP", "Block", "Layer", "Dense", "ReLU", "Tanh", "Sigmoid", "Identity",
    "BatchNorm1d", "NoisyBatchNorm1d", "LayerNorm", "GroupNorm", "RMSNorm",
    "SGD", "Momentum", "Adam", "Optimizer", "StepRecord",
    "accuracy", "mse", "softmax_cross_entropy",
    "init_std", "init_weight", "make_activation", "make_norm", "make_optimizer",
]
