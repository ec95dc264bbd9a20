"""Property-based fuzzing of the public API with hypothesis.

Each test draws one bad input (a wrong type, NaN or inf, a negative or huge count, an
unknown name, a wrong shape, a damaged file) and puts it in an otherwise valid call of
``pg.mcmc``, ``pg.svi``, ``pg.fit``, ``Posterior.load`` or the command line. The property:
the call fails with a ``ProbgenError`` (exit status 2 on the command line) whose message
names the argument, and the files that were there before the call are unchanged.

Runs are derandomized, so that CI sees the same cases every time; ``pytest
--hypothesis-show-statistics tests/core/test_fuzz.py`` reports how many were tried.
"""

from __future__ import annotations

import inspect
import re
import string
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import probgen as pg
from probgen.checks import LARGEST
from probgen.cli import main
from probgen.inference.samplers import SAMPLERS
from probgen.inference.svi import ELBOS, GUIDES
from probgen.initialization import STRATEGIES
from probgen.models import registry
from probgen.programs import BACKENDS, PRECISIONS


def fuzz(cases: int) -> settings:
    """``cases`` derandomized examples, with no time limit per example and no database."""
    return settings(
        max_examples=cases,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


COIN = {backend: registry.get("coin").program(backend) for backend in BACKENDS}
SHORT = dict(chains=1, warmup=2, draws=2, seed=0, progress=False)


def junk() -> st.SearchStrategy:
    """Values of no sensible type for a number or a name."""
    return st.one_of(
        st.text(max_size=6),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.complex_numbers(),
    )


def bad_count(minimum: int, none: bool = True) -> st.SearchStrategy:
    """A count below ``minimum``, above 2³¹ − 1, a float (NaN and inf among them), junk,
    and None unless None is a valid value (``none=False``)."""
    return st.one_of(
        st.integers(max_value=minimum - 1),
        st.integers(min_value=LARGEST + 1),
        st.floats(),
        *([st.none()] if none else []),
        junk(),
    )


def bad_real(valid, none: bool = True) -> st.SearchStrategy:
    """A float for which ``valid`` is false (NaN and inf among them), junk, and None unless
    None is a valid value (``none=False``)."""
    floats = st.floats().filter(lambda x: not valid(x))
    return st.one_of(floats, *([st.none()] if none else []), junk())


def bad_name(names) -> st.SearchStrategy:
    """A string that is not one of ``names``, or junk."""
    return st.one_of(st.text(max_size=8).filter(lambda s: s not in names), st.integers(), junk())


def identifier() -> st.SearchStrategy:
    return st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).filter(str.isidentifier)


def bad_init() -> st.SearchStrategy:
    """An unknown strategy, a site that the coin lacks, or θ outside Beta's support [0, 1]."""
    return st.one_of(
        bad_name(STRATEGIES).filter(lambda v: v is not None and not isinstance(v, dict)),
        st.dictionaries(
            identifier().filter(lambda s: s != "theta"), st.floats(0.1, 0.9), min_size=1, max_size=2
        ),
        # the edges 0 and 1: test_errors (Pyro's map to the unconstrained space clamps them)
        st.fixed_dictionaries({"theta": st.floats().filter(lambda x: not 0 <= x <= 1)}),
    )


def named(option: str, message: str) -> bool:
    """Whether an error message names ``option`` (as --batch-size or batch_size)."""
    bare = option.lstrip("-")
    return any(name in message for name in (option, bare, bare.replace("-", "_")))


MCMC_OPTIONS = {
    "chains": bad_count(1),
    "warmup": bad_count(0),
    "draws": bad_count(1),
    "seed": bad_count(0),
    "target_accept": bad_real(lambda x: 0 < x < 1, none=False),
    "sampler": bad_name(SAMPLERS),
    "precision": bad_name(PRECISIONS),
    "backend": bad_name(BACKENDS),
    "device": bad_name(()).filter(lambda v: not str(v).startswith(("cpu", "cuda", "gpu"))),
    "init": bad_init(),
}


@fuzz(400)
@given(st.sampled_from(BACKENDS), st.sampled_from(sorted(MCMC_OPTIONS)), st.data())
def test_pg_mcmc_names_a_bad_option(backend, option, data):
    value = data.draw(MCMC_OPTIONS[option], label=option)
    with pytest.raises(pg.ProbgenError) as error:
        pg.mcmc(COIN[backend], 10, k=7.0, **{**SHORT, option: value})
    assert named(option, str(error.value)), str(error.value)


@fuzz(100)
@given(st.sampled_from(BACKENDS), identifier())
def test_pg_mcmc_names_an_unknown_keyword(backend, key):
    known = inspect.signature(COIN[backend]).parameters | inspect.signature(pg.mcmc).parameters
    assume(key not in known)
    with pytest.raises(pg.ArgumentError, match=f"'{key}' is neither a pg.mcmc option"):
        pg.mcmc(COIN[backend], 10, k=7.0, **{**SHORT, key: 1})


def bad_heads() -> st.SearchStrategy:
    """Observed head counts k that are no data: NaN or inf among them, strings, nested
    junk."""
    finite = st.floats(0, 10)
    nonfinite = st.sampled_from([float("nan"), float("inf"), -float("inf")])
    return st.one_of(
        nonfinite,
        st.lists(finite, max_size=4).flatmap(lambda xs: st.permutations([*xs, float("nan")])),
        st.text(max_size=5),
    )


@fuzz(120)
@given(st.sampled_from(BACKENDS), bad_heads())
def test_pg_mcmc_names_the_argument_with_bad_data(backend, k):
    with pytest.raises(pg.ProbgenError) as error:
        pg.mcmc(COIN[backend], 10, k=k, **SHORT)
    assert "'k'" in str(error.value), str(error.value)


SVI_OPTIONS = {
    "steps": bad_count(1),
    "particles": bad_count(1),
    "seed": bad_count(0),
    "lr": bad_real(lambda x: 0 < x < float("inf")),
    "lr_decay": bad_real(lambda x: 0 < x <= 1),
    "alpha": bad_real(lambda x: abs(x) < float("inf")),
    "elbo": bad_name(ELBOS),
    "guide": bad_name(GUIDES),
    "precision": bad_name(PRECISIONS),
}


@fuzz(300)
@given(st.sampled_from(BACKENDS), st.sampled_from(sorted(SVI_OPTIONS)), st.data())
def test_pg_svi_names_a_bad_option(backend, option, data):
    value = data.draw(SVI_OPTIONS[option], label=option)
    options = {"steps": 2, "progress": False, option: value}
    with pytest.raises(pg.ProbgenError) as error:
        pg.svi(COIN[backend], 10, k=7.0, **options)
    assert named(option, str(error.value)), str(error.value)


FIT_OPTIONS = {
    "steps": bad_count(1),
    "batch_size": bad_count(1),
    "seed": bad_count(0),
    "lr": bad_real(lambda x: 0 < x < float("inf")),
    "clip_norm": bad_real(lambda x: 0 < x < float("inf"), none=False),
    "checkpoint_every": bad_count(1, none=False),
    "objective": bad_name(("elbo", "mle", "iwae")).filter(lambda v: v is not None),
    "data": st.one_of(
        st.integers(1, 5).map(lambda d: torch.zeros(8, d + 2)),  # realnvp_2d takes (N, 2)
        st.just(torch.full((8, 2), float("nan"))),
        st.just(torch.zeros(0, 2)),
        junk(),
    ),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-D RealNVP, its moons, and a checkpoint that a bad call must leave as it was."""
    entry = registry.get("realnvp_2d")
    dataset = entry.data("moons")
    path = tmp_path_factory.mktemp("fit") / "checkpoint.pt"
    model = entry.build(dataset)
    pg.fit(model, dataset.train[:64], steps=1, batch_size=32, checkpoint=path, progress=False)
    return model, dataset.train[:64], path


@fuzz(300)
@given(st.sampled_from(sorted(FIT_OPTIONS)), st.data())
def test_pg_fit_names_a_bad_option_and_keeps_the_checkpoint(trained, option, data):
    model, x, path = trained
    before = path.read_bytes()
    value = data.draw(FIT_OPTIONS[option], label=option)
    options = {"steps": 1, "batch_size": 32, "checkpoint": path, "progress": False}
    options |= {option: value} if option != "data" else {}
    with pytest.raises(pg.ProbgenError) as error:
        pg.fit(model, value if option == "data" else x, **options)
    assert named(option, str(error.value)) or option == "data", str(error.value)
    assert path.read_bytes() == before


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> bytes:
    """The bytes of a posterior file written by ``Posterior.save``."""
    path = tmp_path_factory.mktemp("posterior") / "posterior.nc"
    pg.mcmc(COIN["numpyro"], 10, k=7.0, **SHORT).save(path)
    return path.read_bytes()


@fuzz(200)
@given(st.data())
def test_posterior_load_names_a_file_that_is_no_posterior(saved, tmp_path_factory, data):
    content = data.draw(
        st.one_of(
            st.binary(max_size=600),
            st.integers(0, len(saved) - 1).map(lambda n: saved[:n]),
            st.binary(min_size=1, max_size=64).map(lambda junk: junk + saved[64:]),
        ),
        label="content",
    )
    path = tmp_path_factory.mktemp("load") / "posterior.nc"
    path.write_bytes(content)
    with pytest.raises(pg.ArgumentError, match=re.escape(str(path))):
        pg.Posterior.load(path)
    assert path.read_bytes() == content


def test_posterior_load_names_a_missing_file(tmp_path):
    with pytest.raises(pg.ArgumentError, match="does not exist"):
        pg.Posterior.load(tmp_path / "nope.nc")


def bad_cli_count(minimum: int) -> st.SearchStrategy:
    return st.one_of(
        st.integers(max_value=minimum - 1),
        st.integers(min_value=LARGEST + 1),
        st.floats().map(str),
        st.text(max_size=4),
    ).map(str)


CLI_BAYES = {
    "--chains": bad_cli_count(1),
    "--warmup": bad_cli_count(0),
    "--draws": bad_cli_count(1),
    "--seed": bad_cli_count(0),
    "--sampler": bad_name(SAMPLERS).map(str),
    "--backend": bad_name(BACKENDS).map(str),
    "--precision": bad_name(PRECISIONS).map(str),
    "--out": st.sampled_from(["/proc/nope", "/dev/null/out"]),
    "model": bad_name([e.name for e in registry.entries()]).map(str),
}
CLI_DEEP = {
    "--steps": bad_cli_count(1),
    "--batch-size": bad_cli_count(1),
    "--lr": bad_real(lambda x: 0 < x < float("inf")).map(str),
    "--data": bad_name(registry.get("realnvp_2d").datasets).map(str),
    "--sampler": st.sampled_from(sorted(SAMPLERS)),
}


def run_cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's refusal
        return exit_.code


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, saved):
    """A folder holding a Bayesian fit's files and one holding a deep run's checkpoint."""
    bayes = tmp_path_factory.mktemp("bayes")
    (bayes / "posterior.nc").write_bytes(saved)
    (bayes / "summary.csv").write_text("earlier fit\n")
    deep = tmp_path_factory.mktemp("deep")
    (deep / "checkpoint.pt").write_bytes(b"earlier training")
    return bayes, deep


@fuzz(300)
@given(st.booleans(), st.data())
def test_cli_refuses_a_bad_option_before_any_work(cli_runs, capsys, deep, data):
    bayes_out, deep_out = cli_runs
    options = CLI_DEEP if deep else CLI_BAYES
    option = data.draw(st.sampled_from(sorted(options)), label="option")
    value = data.draw(options[option], label="value")
    out = deep_out if deep else bayes_out
    argv = {"model": "realnvp_2d" if deep else "coin", "--out": str(out), "--progress": "off"}
    argv |= {"--steps": "1"} if deep else {"--chains": "1", "--warmup": "2", "--draws": "2"}
    argv[option] = value
    command = ["fit", argv.pop("model")] + [s for kv in argv.items() for s in kv]
    if deep:
        command.append("--overwrite")
    before = snapshot(out)
    capsys.readouterr()
    assert run_cli(command) == 2, command
    message = capsys.readouterr().err
    assert "error:" in message and (named(option, message) or option == "model"), message
    assert snapshot(out) == before
