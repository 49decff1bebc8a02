"""Partial reductions on real engines (SPEC section 5), each against the single process.

- JAX: a simulated 8-device CPU mesh; a loss under ``jax.jit`` of ``NamedSharding``-ed
  inputs, and under ``shard_map`` with a ``psum`` of the partials, gradient included.
- torch.distributed: 2 processes on the gloo backend; ``all_reduce`` of the partials and of
  the gradient of their numerator.
- Dask distributed: a ``LocalCluster`` of 2 worker processes with a memory limit each; the
  loss graph is built lazily and computed on the cluster.

Each engine runs in a fresh process (device counts and process groups are per process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest


def _run(script: str, *, env: dict[str, str] | None = None, timeout: int = 300) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


JAX_MESH = """
import numpy as np
import jax, jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import arrayloss

jax.config.update("jax_enable_x64", True)
assert len(jax.devices()) == 8, jax.devices()
mesh = Mesh(np.array(jax.devices()), ("data",))
rng = np.random.default_rng(0)
labels = jnp.asarray(rng.integers(0, 5, 64))
logits = jnp.asarray(rng.normal(size=(64, 5)))
mask = jnp.asarray(np.arange(64) >= 8)  # the first device's whole shard is padding
weight = jnp.asarray(rng.uniform(0, 2, 64))
single = arrayloss.scce(labels, logits, from_logits=True, mask=mask, sample_weight=weight,
                        reduction="weighted_mean")
grad_single = jax.grad(lambda z: arrayloss.scce(labels, z, from_logits=True, mask=mask,
                                                sample_weight=weight,
                                                reduction="weighted_mean"))(logits)

# 1. jax.jit of sharded inputs: XLA partitions the whole computation.
rows = NamedSharding(mesh, P("data"))
sharded = [jax.device_put(x, rows) for x in (labels, logits, mask, weight)]
jitted = jax.jit(lambda y, z, m, w: arrayloss.scce(y, z, from_logits=True, mask=m,
                                                   sample_weight=w,
                                                   reduction="weighted_mean"))
np.testing.assert_allclose(jitted(*sharded), single, rtol=1e-12)

# 2. shard_map: each device reduces its own shard to partials; psum combines them.
def local(y, z, m, w):
    num, den = arrayloss.scce(y, z, from_logits=True, mask=m, sample_weight=w,
                              reduction="partial_weighted_mean")
    num, den = jax.lax.psum(num, "data"), jax.lax.psum(den, "data")
    return arrayloss.combine_partials(num, den)

mapped = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(P("data"),) * 4, out_specs=P()))
np.testing.assert_allclose(mapped(*sharded), single, rtol=1e-12)
grad = jax.jit(jax.grad(lambda z: mapped(sharded[0], z, sharded[2], sharded[3])))(sharded[1])
np.testing.assert_allclose(grad, grad_single, rtol=1e-10, atol=1e-14)
print("ok")
"""


def test_jax_mesh_of_8_devices_jit_and_shard_map_psum():
    out = _run(JAX_MESH, env={"XLA_FLAGS": "--xla_force_host_platform_device_count=8",
                              "JAX_PLATFORMS": "cpu"})
    assert out.strip().endswith("ok")


TORCH_DISTRIBUTED = """
import os, sys, tempfile
import numpy as np
import torch, torch.distributed as dist, torch.multiprocessing as mp
import arrayloss

def data():
    rng = np.random.default_rng(1)
    y = torch.tensor(rng.normal(size=(10, 3)))
    p = torch.tensor(rng.normal(size=(10, 3)))
    mask = torch.tensor(np.arange(10) >= 4)  # rank 0's rows 0-3 are padding
    return y, p, mask

def worker(rank, init):
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    y, p, mask = data()
    rows = slice(0, 4) if rank == 0 else slice(4, 10)  # unequal shards
    x = p[rows].clone().requires_grad_(True)
    num, den = arrayloss.huber(y[rows], x, mask=mask[rows], reduction="partial_mean")
    num.backward()  # the gradient of this shard's numerator
    totals = torch.stack([num.detach(), den])
    dist.all_reduce(totals)
    value = arrayloss.combine_partials(totals[0], totals[1])
    grad = x.grad / totals[1]
    x_all = p.clone().requires_grad_(True)
    single = arrayloss.huber(y, x_all, mask=mask)
    single.backward()
    assert torch.allclose(value, single, rtol=1e-12), (rank, value, single)
    assert torch.allclose(grad, x_all.grad[rows], rtol=1e-12), rank
    dist.destroy_process_group()

if __name__ == "__main__":
    init = "file://" + os.path.join(tempfile.mkdtemp(), "rendezvous")
    mp.spawn(worker, args=(init,), nprocs=2, join=True)
    print("ok")
"""


def test_torch_distributed_two_processes_all_reduce_partials(tmp_path):
    script = tmp_path / "ddp_partials.py"  # spawn needs an importable main module
    script.write_text(textwrap.dedent(TORCH_DISTRIBUTED))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().endswith("ok")


DASK_CLUSTER = """
import numpy as np
import dask.array as da
from distributed import Client, LocalCluster
import arrayloss

if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GiB",
                      processes=True, dashboard_address=None) as cluster, Client(cluster):
        rng = np.random.default_rng(2)
        y = rng.integers(0, 2, (4000, 8)).astype(float)
        z = rng.normal(size=(4000, 8))
        lazy_y, lazy_z = da.from_array(y, chunks=(500, 8)), da.from_array(z, chunks=(500, 8))
        lazy = arrayloss.bce(lazy_y, lazy_z, from_logits=True)
        assert isinstance(lazy, da.Array)  # a graph, not computed
        single = arrayloss.bce(y, z, from_logits=True)
        np.testing.assert_allclose(lazy.compute(), single, rtol=1e-12)
        # One partial pair per chunk of rows, combined after the cluster computes them.
        parts = [arrayloss.bce(lazy_y[i:i + 500], lazy_z[i:i + 500], from_logits=True,
                               reduction="partial_mean") for i in range(0, 4000, 500)]
        numerators = da.stack([n for n, _ in parts]).compute()
        denominators = da.stack([d for _, d in parts]).compute()
        np.testing.assert_allclose(arrayloss.combine_partials(numerators, denominators),
                                   single, rtol=1e-12)
        print("ok")
"""


def test_dask_local_cluster_lazy_graph_and_partials(tmp_path):
    pytest.importorskip("distributed")
    script = tmp_path / "dask_partials.py"
    script.write_text(textwrap.dedent(DASK_CLUSTER))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().endswith("ok")
