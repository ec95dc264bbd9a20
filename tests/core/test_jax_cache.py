"""probgen.jax_cache: a second process running the same NumPyro program loads its
compiled sampler from the persistent cache and draws the same numbers.

Reference: JAX's own cache events (``jax.monitoring``), counted in fresh interpreters.
"""

import json
import os
import subprocess
import sys

RUN = """
import json, jax.monitoring
import probgen as pg
from probgen.models import registry

events = []
jax.monitoring.register_event_listener(lambda event, **kwargs: events.append(event))
coin = registry.get("coin")
post = pg.mcmc(coin.numpyro, **coin.data(), chains=1, warmup=100, draws=50, progress=False)
print(json.dumps({
    "hits": events.count("/jax/compilation_cache/cache_hits"),
    "theta": post.samples["theta"].ravel().tolist(),
    "folder": jax.config.jax_compilation_cache_dir,
}))
"""


def run(env: dict[str, str]) -> dict:
    """RUN in a fresh interpreter with ``env``, without the cache settings that
    tests/conftest.py exports for the suite's own subprocesses."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    done = subprocess.run(
        [sys.executable, "-c", RUN],
        env=inherited | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_compiled_sampler_and_draws_the_same(tmp_path):
    env = {"PROBGEN_CACHE_DIR": str(tmp_path / "cache"), "PROBGEN_JAX_CACHE": "1"}
    first, second = run(env), run(env)
    assert first["folder"] == str(tmp_path / "cache")
    assert first["hits"] == 0 and second["hits"] > 0
    assert second["theta"] == first["theta"]


def test_opting_out_or_a_folder_of_the_users_own_leaves_the_cache_as_it_was(tmp_path):
    off = run({"PROBGEN_CACHE_DIR": str(tmp_path / "off"), "PROBGEN_JAX_CACHE": "0"})
    assert off["folder"] is None and not (tmp_path / "off").exists()
    mine = tmp_path / "mine"
    own = run({"PROBGEN_CACHE_DIR": str(tmp_path / "ours"), "JAX_COMPILATION_CACHE_DIR": str(mine)})
    assert own["folder"] == str(mine) and not (tmp_path / "ours").exists()
