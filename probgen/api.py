"""The user-facing entry points: check the input, bind the program, call the inference layer.

probgen's own options are keyword-only; every other positional or keyword argument is
passed to the program (``pg.mcmc(coin, 10, k=7.0)`` calls ``coin(10, k=7.0)``).
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from probgen import lazy
from probgen.checks import at_least, fraction, number, positive_float
from probgen.errors import ArgumentError, ModelError
from probgen.inference.samplers import Sampler, resolve
from probgen.initialization import check_init
from probgen.programs import Backend, Precision, Program, check_device, precision_scope, prepare

if TYPE_CHECKING:
    import torch

    from probgen.datasets.base import Dataset
    from probgen.inference.flows import NeuTra
    from probgen.inference.objectives import Objective
    from probgen.models.base import GenerativeModel
    from probgen.results import Posterior, Run, VIResult

# each entry point imports the inference it runs when it is called
_batches = lazy.load("probgen.inference.batches", globals())
_fit = lazy.load("probgen.inference.fit", globals())
_flows = lazy.load("probgen.inference.flows", globals())
_mcmc = lazy.load("probgen.inference.mcmc", globals())
_models = lazy.load("probgen.models.base", globals())
_objectives = lazy.load("probgen.inference.objectives", globals())
_svi = lazy.load("probgen.inference.svi", globals())


def mcmc(
    model: Callable,
    *args: Any,
    sampler: str | Sampler = "nuts",
    chains: int = 4,
    warmup: int = 1000,
    draws: int = 1000,
    seed: int = 0,
    progress: bool = True,
    dense_mass: bool | None = None,
    target_accept: float | None = None,
    init: str | dict[str, Any] | None = None,
    reparam: str | NeuTra | None = None,
    device: str = "cpu",
    backend: Backend | None = None,
    precision: Precision = "float32",
    **kwargs: Any,
) -> Posterior:
    """Sample the posterior p(z | x) ∝ p(x, z) of a Pyro or NumPyro program by MCMC.

    ``sampler`` is a name from ``probgen.inference.samplers.SAMPLERS`` or a sampler object
    such as ``NUTS(target_accept=0.9)``. ``"nuts"`` is the No-U-Turn sampler (Hoffman &
    Gelman, 2014); ``"hmc"`` is Hamiltonian Monte Carlo with a fixed trajectory length.
    Both run on the program's own library, adapt the step size towards ``target_accept``
    (default 0.8) and a diagonal (``dense_mass``: dense) mass matrix during ``warmup``,
    then keep ``draws`` draws per chain. ``target_accept`` and ``dense_mass`` apply to a
    sampler given by name; None keeps the sampler's default.

    ``init`` is ``"uniform"`` (default), ``"median"``, ``"mean"``, ``"sample"`` or a dict
    ``{site: value}`` of constrained starting values. ``reparam="neutra"`` (or a
    ``NeuTra(guide="iaf", steps=None, lr=1e-2, ...)``) first fits a flow guide z = T(u),
    u ~ N(0, I), by SVI and then samples u from p(x, T(u)) |det ∂T/∂u|, which is near
    N(0, I) where the guide fits (Hoffman et al., 2019); the draws are mapped back to the
    program's sites, and ``attrs["neutra_loss"]`` keeps the guide's final −ELBO. It works
    with "nuts", "hmc", "mala", "ula" and "mh" (see ``probgen.inference.flows``).
    ``backend`` overrides the detection of the program's library. ``precision="float64"``
    runs the call (data, sampler, draws) in double precision on either library, for stiff
    posteriors, and restores torch's default dtype and JAX's ``jax_enable_x64`` afterwards;
    "float32" keeps the libraries' settings. Returns a ``Posterior`` with draws shaped
    (chains, draws, ...).
    """
    at_least("chains", chains, 1)
    at_least("warmup", warmup, 0)
    at_least("draws", draws, 1)
    at_least("seed", seed, 0)
    if target_accept is not None:
        fraction("target_accept", target_accept)
    spec = resolve(sampler, dense_mass=dense_mass, target_accept=target_accept)
    with precision_scope(precision):
        program = _bind(model, args, kwargs, backend, device, init, mcmc, precision)
        _latents(program)
        if isinstance(spec, _mcmc.NUTS):
            _continuous_latents(program, spec.name)
        # the flows' module imports both libraries: only a reparametrised call needs it
        neutra = None if reparam is None else _flows.neutra(reparam, program, spec, init)
        if neutra is not None:
            steps, particles = neutra.budget(program.backend)
            guide = _svi.make_guide(program, neutra.guide)
            elbo = _svi.make_elbo(program, "trace", particles, 0.0)
            fitted = _svi.run(
                program,
                guide,
                elbo,
                steps=steps,
                lr=neutra.lr,
                lr_decay=neutra.lr_decay,
                seed=seed,
                progress=progress,
            )
            warped = neutra.warp(fitted)
            program = warped.program
        posterior = _mcmc.run(
            program,
            spec.kernel(program, init),
            chains=chains,
            warmup=warmup,
            draws=draws,
            seed=seed,
            progress=progress,
            sampler=spec.name,
        )
        return posterior if neutra is None else warped.posterior(posterior)


def svi(
    model: Callable,
    *args: Any,
    guide: str | Callable = "normal",
    elbo: str = "trace",
    steps: int = 1000,
    lr: float = 0.01,
    lr_decay: float = 1.0,
    particles: int = 1,
    alpha: float = 0.0,
    seed: int = 0,
    progress: bool = True,
    device: str = "cpu",
    backend: Backend | None = None,
    precision: Precision = "float32",
    **kwargs: Any,
) -> VIResult:
    """Fit a variational guide q(z) to a Pyro or NumPyro program by maximising the ELBO.

    ELBO = E_q[log p(x, z) − log q(z)]. ``guide`` is ``"delta"`` (MAP), ``"normal"``
    (mean-field), ``"mvn"`` (full covariance), ``"lowrank"``, ``"laplace"`` (N(ẑ, H⁻¹) at
    the MAP ẑ), a normalizing flow z = T(u), u ~ N(0, I), over all latent sites (``"iaf"``
    inverse autoregressive, ``"bnaf"`` block neural autoregressive, and on Pyro programs
    ``"realnvp"`` affine coupling and ``"nsf"`` spline coupling; see
    ``probgen.inference.flows``), or a guide function.
    ``elbo`` is ``"trace"``, ``"meanfield"`` (analytic KL where available) or ``"renyi"``
    with ``alpha`` and ``particles`` (α = 0 gives the IWAE bound). Adam with learning
    rate ``lr`` takes ``steps`` steps; the rate decays geometrically to ``lr · lr_decay``
    at the last step (decay helps a MAP on a non-smooth density, e.g. a Laplace prior,
    settle). A NaN loss stops the run with ``TrainingError``. ``precision`` is as in
    ``mcmc``: "float64" fits in double precision and restores the caller's settings.
    """
    at_least("steps", steps, 1)
    at_least("particles", particles, 1)
    at_least("seed", seed, 0)
    positive_float("lr", lr)
    fraction("lr_decay", lr_decay, one=True)
    number("alpha", alpha)
    with precision_scope(precision):
        program = _bind(model, args, kwargs, backend, device, None, svi, precision)
        if isinstance(guide, str):  # a guide function may fit the model's params alone
            _latents(program)
        fitted_guide = _svi.make_guide(program, guide)
        loss = _svi.make_elbo(program, elbo, particles, alpha)
        return _svi.run(
            program,
            fitted_guide,
            loss,
            steps=steps,
            lr=lr,
            lr_decay=lr_decay,
            seed=seed,
            progress=progress,
            laplace=guide == "laplace" and program.backend == "pyro",
        )


def fit(
    model: GenerativeModel,
    data: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | Dataset,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    clip_norm: float | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
    progress: bool = True,
    objective: str | Objective | None = None,
    jit_compile: bool = False,
    dequantize: bool = False,
) -> Run:
    """Train a zoo model on ``data`` (N, *event_shape), or a ``Dataset``'s ``train``.

    A ``conditional`` model (``ConditionalVAE``) trains on the pair (x, y) of examples and
    their labels, or on a ``Dataset``'s ``train`` and ``train_labels``.

    Each of ``steps`` steps updates the parameters on a minibatch x of B = ``batch_size``
    examples, drawn without replacement in a fresh seeded order each epoch, by the
    ``objective`` (an ``Objective`` from ``probgen.inference.objectives``, or its name);
    the one-loss objectives take one Adam step (learning rate ``lr``) on a per-example loss:

    - ``"elbo"`` (``ELBO()``): −ELBO/N, ELBO = Σ_i E_q[log p(x_i, z_i) − log q(z_i | x_i)]
      estimated on the minibatch with its terms scaled by N/B (the model's ``elbo()``, by
      default Pyro's ``Trace_ELBO``, on ``model.model(x, size=N)`` and
      ``model.guide(x, size=N)``);
    - ``"mle"`` (``MaximumLikelihood()``): −(1/B) Σ_i log p(x_i) with ``model.log_prob``;
    - ``"loss"`` (``ModelLoss()``): ``model.loss(x)``.

    Other objectives own several parameter groups, each with its optimizer (``Adversarial``:
    a discriminator and a generator), or state across steps (``ContrastiveDivergence``'s
    persistent chains); "svi" and "objective" are the older names of "elbo" and "loss".
    ``objective=None`` takes the model's ``default_objective``. ``clip_norm`` rescales the
    gradient g of each update to g·min(1, clip_norm/‖g‖₂). ``device`` moves the model and
    the data. ``checkpoint`` (a file) is written atomically every ``checkpoint_every``
    steps and at the end;
    ``resume`` continues from such a file to ``steps``, exactly as an uninterrupted run
    with the same seed would (tests/inference/test_fit.py). A loss or gradient that is not
    finite stops the run with ``TrainingError`` and leaves the last checkpoint untouched.
    ``jit_compile`` traces the loss with the PyTorch JIT after the first epoch (one graph per
    batch shape) and replays it instead of re-running the programs' Python: the same values
    and random draws, with less overhead (the digits VAE's step: ~1.08× a hand-written PyTorch
    loop's, ~1.18× without the JIT; ``benchmarks/svi_vae.py``). After the first epoch, an
    objective's direct losses (the VAE family's ``elbo_estimate``), checked against the
    programs' on the first batch, replace the losses that run the programs
    (``inference/direct.py``). A loss that the tracer cannot
    record, or whose control flow depends on values, is refused with ``ModelError`` when it
    is traced or on the next batch, where each graph is checked against the Python loss.
    ``dequantize=True`` takes a quantized ``Dataset`` (``levels`` = k, e.g.
    ``digits(levels=17)``) and trains each epoch on y = x + u, u ~ U[0, 1/k)^D drawn afresh
    per epoch (seeded), the dequantization a flow on [0, 1)^D needs (Theis et al., 2016): with
    one fixed draw, a flow learns the noise and its test NLL climbs after a few hundred steps.
    Returns a ``Run``: ``losses`` per step (the objective's first named value),
    ``metrics["epoch_loss"]`` (their mean over each complete epoch), the objective's other
    named values per step, and ``checkpoints``.
    """
    if not isinstance(model, _models.GenerativeModel):
        raise ArgumentError(
            f"model must be a probgen.models.base.GenerativeModel (a zoo model), got "
            f"{type(model).__name__}; fit a Pyro or NumPyro program with pg.svi or pg.mcmc"
        )
    at_least("steps", steps, 1)
    at_least("batch_size", batch_size, 1)
    at_least("seed", seed, 0)
    positive_float("lr", lr)
    if clip_norm is not None:
        positive_float("clip_norm", clip_norm)
    if checkpoint_every is not None:
        at_least("checkpoint_every", checkpoint_every, 1)
        if checkpoint is None:
            raise ArgumentError("checkpoint_every needs checkpoint=PATH, the file to write")
    objective = _objectives.resolve(objective, model)
    noisy = _batches.quantized(data) if dequantize else None
    device = check_device(device, "pyro")
    model.to(device)
    return _fit.train(
        model,
        _batches.training_data(model, data, device),
        objective=objective,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        clip_norm=clip_norm,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
        progress=progress,
        jit_compile=bool(jit_compile),
        dequantize=noisy,
    )


def _bind(model, args, kwargs, backend, device, init, entry, precision) -> Program:
    """The program bound to its data, after checking the keywords it gets from ``entry``
    (``mcmc`` or ``svi``), its data and a dict ``init``."""
    _program_keywords(model, kwargs, entry)
    program = prepare(
        model, args, kwargs, backend=backend, device=device, init=init, precision=precision
    )
    program.check_data()
    if isinstance(init, dict):
        check_init(program, init)
    return program


def _program_keywords(model: Callable, kwargs: dict[str, Any], entry: Callable) -> None:
    """Refuse a keyword that is neither an option of ``entry`` nor a parameter of
    ``model`` (a misspelt option), suggesting the nearest name; a program that takes
    ``**kwargs`` accepts any."""
    try:
        parameters = inspect.signature(model).parameters
    except (TypeError, ValueError):  # no signature to read: the program will say
        return
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    named = [k for k, p in parameters.items() if p.kind is not p.VAR_POSITIONAL]
    options = [
        k for k, p in inspect.signature(entry).parameters.items() if p.kind is p.KEYWORD_ONLY
    ]
    for key in kwargs:
        if key not in named:
            near = difflib.get_close_matches(key, options + named, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ArgumentError(
                f"{key!r} is neither a pg.{entry.__name__} option nor a parameter of "
                f"{getattr(model, '__name__', type(model).__name__)}"
                f"{inspect.signature(model)}{hint}"
            )


def _latents(program: Program) -> None:
    if not program.site_names("latent"):
        raise ModelError(
            f"{program.name} has no latent sample site, only observed ones: there is "
            "nothing to infer. Give it a prior (a pyro.sample or numpyro.sample without obs=)."
        )


def _continuous_latents(program: Program, sampler: str) -> None:
    if discrete := program.discrete_latents():
        raise ModelError(
            f"site {discrete[0]!r} is a discrete latent variable, and {sampler.upper()} "
            "needs continuous ones: sum it out by marking the sample statement with "
            "infer={'enumerate': 'parallel'}, or integrate it out by hand"
        )
