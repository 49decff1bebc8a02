"""Partial reductions on real engines (SPEC section 5), each against the single process.

- JAX: a simulated 8-device CPU mesh; a loss under ``jax.jit`` of ``NamedSharding``-ed
  inputs, and under ``shard_map`` with a ``psum`` of the partials, gradient included.
- torch.distributed: 2 processes on the gloo backend; ``all_reduce`` of the partials and of
  the gradient of their numerator; and a ``DistributedDataParallel`` SGD step whose loss
  comes from the all-reduced partials, one rank's shard all masked and then empty.
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


DDP_STEP = """
import os, sys, tempfile
import numpy as np
import torch, torch.distributed as dist, torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel
import arrayloss

WORLD = 2
torch.set_default_dtype(torch.float64)

def data():
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.normal(size=(12, 3)))
    labels = torch.tensor(rng.integers(0, 4, 12))
    weight = torch.tensor(rng.uniform(0.5, 2.0, 12))
    mask = torch.tensor(np.arange(12) >= 4)  # rank 0's rows 0-3 are all padding
    return x, labels, weight, mask

def model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 4)

def single_process_steps(shards):
    # The reference: one process, the whole batch, "weighted_mean", plain SGD.
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    x, labels, weight, mask = data()
    out = []
    for rows in shards:
        keep = torch.zeros(12, dtype=torch.bool)
        keep[rows] = True
        opt.zero_grad()
        loss = arrayloss.scce(labels[keep], net(x[keep]), from_logits=True,
                              sample_weight=weight[keep], mask=mask[keep],
                              reduction="weighted_mean")
        loss.backward()
        opt.step()
        out.append((loss.detach(), [p.detach().clone() for p in net.parameters()]))
    return out

def worker(rank, init, steps):
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=WORLD)
    net = DistributedDataParallel(model())
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    x, labels, weight, mask = data()
    expected = single_process_steps([rows for rows, _ in steps])
    start = [p.detach().clone() for p in model().parameters()]
    for step, (rows, local) in enumerate(steps):
        local = local[rank]  # this rank's shard of the step's rows (possibly empty)
        opt.zero_grad()
        num, den = arrayloss.scce(labels[local], net(x[local]), from_logits=True,
                                  sample_weight=weight[local], mask=mask[local],
                                  reduction="partial_weighted_mean")
        totals = torch.stack([num.detach(), den.detach()])
        dist.all_reduce(totals)  # Σ over the ranks of (Σ w·m·l, Σ w·m)
        # The global numerator's value with this rank's numerator's gradient: the other
        # ranks' terms do not depend on this rank's copy of the parameters.
        global_num = num + (totals[0] - num.detach())
        value = arrayloss.combine_partials(global_num, totals[1])
        # DDP's backward averages the ranks' gradients (sums and divides by WORLD); each
        # rank's gradient of value is d(its numerator)/Σw·m, whose sum over the ranks is the
        # whole batch's gradient. Scaling by WORLD undoes the division.
        (WORLD * value).backward()
        opt.step()
        loss, params = expected[step]
        assert torch.allclose(value.detach(), loss, rtol=1e-12), (rank, step, value, loss)
        for got, want, first in zip(net.module.parameters(), params, start, strict=True):
            assert (got.detach() - first).abs().max() > 1e-3  # the step moved it
            assert (got.detach() - want).abs().max() <= 1e-6, (rank, step, got, want)
    dist.destroy_process_group()

if __name__ == "__main__":
    init = "file://" + os.path.join(tempfile.mkdtemp(), "rendezvous")
    steps = [
        # Step 1: rank 0 holds rows 0-3, all masked out; rank 1 holds rows 4-11.
        (slice(0, 12), [slice(0, 4), slice(4, 12)]),
        # Step 2: rank 0's shard is empty (no rows at all); rank 1 holds rows 4-11.
        (slice(4, 12), [slice(4, 4), slice(4, 12)]),
    ]
    mp.spawn(worker, args=(init, steps), nprocs=WORLD, join=True)
    print("ok")
"""


def test_ddp_training_step_with_partials_equals_the_single_process_step(tmp_path):
    """A DistributedDataParallel SGD step over 2 gloo processes, the loss from the all-reduced
    partials (one rank's shard all masked, then empty), equals one process's step on the
    whole batch with reduction="weighted_mean"."""
    script = tmp_path / "ddp_step.py"
    script.write_text(textwrap.dedent(DDP_STEP))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().endswith("ok")
