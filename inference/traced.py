"""A training loss traced by the PyTorch JIT, one graph per batch shape (``jit_compile``).

Evaluating a Pyro ELBO re-runs the programs' Python at every step: the effect handlers, a
message per site, the distribution objects. ``torch.jit.trace`` records the tensor operations
of one evaluation instead, and later steps replay that graph. The model's parameters and
buffers are inputs of the graph (the tensors themselves: the optimizer's in-place updates
are seen, gradients reach them); random draws are operations of the graph, drawn afresh
from torch's generator at each call in the order the Python run draws them.

A trace keeps one path through the program: the shapes of its inputs (hence one graph per
batch shape, as an epoch's last batch may be shorter) and whatever the Python decided from
values. So each graph is verified once, on the next batch of its shape (other values): the
Python loss is computed on the same random draws, and ``ModelError`` is raised when the two
differ, as they do when control flow depends on values (a branch on the data, a loop run to
a tolerance, a statistic of the batch read into Python). A loss that the tracer cannot
record at all (one that calls ``torch.autograd.grad``, as i-ResNet's log-determinant does)
is refused with ``ModelError`` too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

from probgen.errors import ModelError
from probgen.inference.same_draws import RTOL, undone


class TracedLoss:
    """``loss(*data)`` of ``model``, computed after the first call for a batch shape by the
    graph that ``torch.jit.trace`` recorded then.

    Gives the values and gradients of ``loss`` (up to float rounding) from the same random
    draws. Checked against the Python loss, step by step, for every deep model of the zoo
    in tests/inference/test_traced.py.
    """

    def __init__(self, model: nn.Module, loss: Callable[..., torch.Tensor]):
        self._model = model
        self._loss = loss
        # the graphs' inputs besides the data, updated in place by the optimizer (a model
        # that rebinds a parameter or buffer attribute while training cannot be traced)
        self._buffers = list(model.buffers())
        self._tensors = [*model.parameters(), *self._buffers]
        self._graphs: dict[tuple, Callable[..., torch.Tensor]] = {}
        self._verified: set[tuple] = set()

    def __call__(self, *data: torch.Tensor) -> torch.Tensor:
        key = tuple((x.shape, x.dtype, x.device) for x in data)
        graph = self._graphs.get(key)
        if graph is None:
            self._graphs[key] = self._trace(data)
            return self._loss(*data)
        if key in self._verified:
            return self._replay(graph, data)
        with undone(self._buffers, data[0].device), torch.no_grad():
            expected = self._loss(*data)  # from the draws that the graph makes next
        actual = self._replay(graph, data)
        self._check(actual, expected)
        self._verified.add(key)
        return actual

    def _replay(self, graph: Callable[..., torch.Tensor], data: tuple) -> torch.Tensor:
        # the JIT's optimizing executor (profiling runs, then its own autodiff) costs more
        # than it saves on CPU, where it fuses nothing: the plain interpreter replays the
        # operations and eager autograd differentiates them (benchmarks/svi_vae.py)
        with torch.jit.optimized_execution(False):
            return graph(*self._tensors, *data)

    def _trace(self, data: tuple[torch.Tensor, ...]) -> Callable[..., torch.Tensor]:
        """The graph of the loss on inputs shaped as ``data``, traced without a mark on the
        RNG or the buffers."""
        count = len(self._tensors)
        with undone(self._buffers, data[0].device), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # verified instead
            try:
                return torch.jit.trace(
                    lambda *inputs: self._loss(*inputs[count:]),
                    (*self._tensors, *data),
                    check_trace=False,
                )
            except Exception as exc:  # the same loss ran in Python: the tracer refused it
                why = " ".join(str(exc).split()) or type(exc).__name__
                raise ModelError(
                    f"jit_compile=True: the PyTorch JIT cannot trace the loss of "
                    f"{type(self._model).__name__} ({why}). Fit it with jit_compile=False"
                ) from exc

    def _check(self, actual: torch.Tensor, expected: torch.Tensor) -> None:
        """Raise unless the graph's loss is the Python one from the same draws."""
        if not torch.allclose(actual.detach(), expected, rtol=RTOL, atol=RTOL):
            raise ModelError(
                f"jit_compile=True: on a new batch, the traced loss of "
                f"{type(self._model).__name__} is {actual.item():.6g} where its Python gives "
                f"{expected.item():.6g} from the same draws: its control flow depends on "
                "values, which a trace cannot follow. Fit it with jit_compile=False"
            )
