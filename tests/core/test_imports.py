"""What each entry point imports: a user pays only for the libraries that a call needs.

Reference: ``sys.modules`` of a fresh interpreter after the statements under test (no
timings). ``import probgen`` and the lookup of its entry points load no array library and
no ArviZ; the command line's ``--help`` and ``list`` load none either; a call on a NumPyro
program loads no torch or Pyro, a call on a Pyro program no JAX or NumPyro, and ArviZ
comes with the first conversion of a result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

LIBRARIES = ("torch", "pyro", "jax", "numpyro", "arviz", "pandas", "matplotlib")


def loaded(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; each ``mark(label)`` in it records which of
    ``LIBRARIES`` were imported at that point."""
    prelude = textwrap.dedent(
        f"""
        import json, sys
        MARKS = {{}}
        def mark(label):
            MARKS[label] = [m for m in {LIBRARIES!r} if m in sys.modules]
        """
    )
    tail = "\nprint(json.dumps(MARKS))"
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code) + tail],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_probgen_and_its_entry_points_load_no_library():
    marks = loaded(
        """
        import probgen
        mark("import")
        probgen.mcmc, probgen.svi, probgen.fit, probgen.Posterior, probgen.VIResult
        import probgen.models, probgen.datasets
        from probgen.inference.samplers import SAMPLERS
        list(SAMPLERS)
        mark("lookup")
        """
    )
    assert marks == {"import": [], "lookup": []}


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["fit", "--help"]])
def test_the_command_lines_help_and_list_load_no_library(argv):
    marks = loaded(
        f"""
        from probgen.cli import main
        try:
            main({argv!r})
        except SystemExit:
            pass
        mark("cli")
        """
    )
    assert marks == {"cli": []}


PROGRAMS = {
    "numpyro": """
        import numpyro, numpyro.distributions as dist
        def model(y):
            mu = numpyro.sample("mu", dist.Normal(0.0, 1.0).expand([2]).to_event(1))
            numpyro.deterministic("twice", 2 * mu)
            with numpyro.plate("data", 2):
                numpyro.sample("y", dist.Normal(mu.sum(), 1.0), obs=y)
        """,
    "pyro": """
        import pyro, pyro.distributions as dist
        def model(y):
            mu = pyro.sample("mu", dist.Normal(0.0, 1.0).expand([2]).to_event(1))
            pyro.deterministic("twice", 2 * mu)
            with pyro.plate("data", 2):
                pyro.sample("y", dist.Normal(mu.sum(), 1.0), obs=y)
        """,
}
OTHER = {"numpyro": ["torch", "pyro"], "pyro": ["jax", "numpyro"]}


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_mcmc_and_svi_load_the_programs_library_only_and_arviz_when_converted(backend):
    marks = loaded(
        PROGRAMS[backend]
        + """
        import probgen as pg
        from probgen.inference.samplers import ULA, Gibbs, Independence
        samplers = ["nuts", "hmc", "mh", "mala", ULA(step_size=0.1), "sgld", Gibbs()]
        samplers.append(Independence({"mu": dist.Normal(0.0, 2.0).expand([2]).to_event(1)}))
        for sampler in samplers:
            post = pg.mcmc(model, [0.1, 0.5], sampler=sampler, chains=1, warmup=10, draws=10,
                           progress=False)
        from probgen.inference.flows import NeuTra
        neutra = NeuTra(steps=5, particles=1)
        pg.mcmc(model, [0.1, 0.5], reparam=neutra, chains=1, warmup=10, draws=10, progress=False)
        for guide in ("normal", "laplace", "iaf"):
            pg.svi(model, [0.1, 0.5], guide=guide, steps=5, progress=False).posterior(draws=5)
        mark("mcmc")
        post.to_arviz()
        post.summary()
        mark("converted")
        """
    )
    assert not set(OTHER[backend]) & set(marks["mcmc"])
    assert not {"arviz", "pandas", "matplotlib"} & set(marks["mcmc"])
    assert not set(OTHER[backend]) & set(marks["converted"])
    assert "arviz" in marks["converted"]


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_a_zoo_program_that_imports_its_library_as_it_runs_is_detected(backend):
    """The zoo's programs bind their library on first use (``probgen.lazy``): detection
    runs such a program again once its first run has imported the library (unprobed, a
    NumPyro program fails at its first sample statement, a Pyro one runs to its end)."""
    marks = loaded(
        f"""
        from probgen.models.bayes import coin
        from probgen.programs import detect_backend
        mark("zoo")
        assert detect_backend(coin.{backend}_model, (), coin.data()) == "{backend}"
        mark("detected")
        """
    )
    assert marks["zoo"] == []
    assert backend in marks["detected"]
    assert not set(OTHER[backend]) & set(marks["detected"])
