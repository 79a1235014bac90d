#!/usr/bin/env python3
"""PyTorch DDP (gloo, CPU) training job for fabrica's torch-ddp example.

Every process reads the torchrun environment contract (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR, MASTER_PORT), as set by torchrun (`python3 -m torch.distributed.run`) or
directly by a fabrica scheduler provider, and joins one gloo process group. Each rank
trains the same small MLP on its own shard of a synthetic regression data set; DDP
all-reduces the gradients, so every rank applies the same Adam update.

Rank 0 prints "step N loss X" (the loss averaged over the ranks) and, at the end,
"DDP_DONE {json}"; every rank prints "rank R params sha256 H". Rank 0 saves the final
model to FABRICA_CHECKPOINT_DIR/model.pt when that is set. The exit status is 0 only if
the parameters are bit-identical on every rank, proof that gradients were all-reduced.

Run it with /usr/bin/python3 (Debian's python3-torch): `python3` on PATH may be another
interpreter without torch. See README.md.
"""
import argparse
import hashlib
import json
import os
import sys
import time


def contract():
    """Return (rank, world size, local rank), failing clearly when the contract is missing."""
    missing = [k for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        sys.exit("ddp.py: missing %s: run it under torchrun or a fabrica scheduler" % ", ".join(missing))
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    a = p.parse_args()
    rank, world, local_rank = contract()

    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    torch.set_num_threads(1)  # several ranks share a few cores
    t0 = time.time()
    dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)

    torch.manual_seed(0)  # the same model and target on every rank
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    w_true = torch.randn(16, 1)
    ddp = DDP(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=a.lr)
    lossf = torch.nn.MSELoss()
    data = torch.Generator().manual_seed(1000 + rank)  # each rank its own shard

    first = last = None
    for step in range(max(1, a.steps)):
        x = torch.randn(a.batch, 16, generator=data)
        y = x @ w_true
        opt.zero_grad()
        loss = lossf(ddp(x), y)
        loss.backward()
        opt.step()
        mean = loss.detach().clone()
        dist.all_reduce(mean)
        last = mean.item() / world
        first = last if first is None else first
        if rank == 0:
            print("step %d loss %.6f" % (step, last), flush=True)

    flat = torch.cat([q.detach().flatten() for q in model.parameters()])
    lo, hi = flat.clone(), flat.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    in_sync = bool(torch.equal(lo, hi))
    print("rank %d params sha256 %s" % (rank, hashlib.sha256(flat.numpy().tobytes()).hexdigest()), flush=True)
    if rank == 0:
        ckpt = os.environ.get("FABRICA_CHECKPOINT_DIR")
        if ckpt:
            os.makedirs(ckpt, exist_ok=True)
            torch.save(model.state_dict(), os.path.join(ckpt, "model.pt"))
        print("DDP_DONE " + json.dumps({
            "world_size": world, "steps": a.steps, "first_loss": first, "final_loss": last,
            "params_in_sync": in_sync, "seconds": round(time.time() - t0, 3),
            "fabrica_job_id": os.environ.get("FABRICA_JOB_ID"), "restart": os.environ.get("TORCHELASTIC_RESTART_COUNT"),
        }), flush=True)
    dist.destroy_process_group()
    return 0 if in_sync else 3


if __name__ == "__main__":
    sys.exit(main())
