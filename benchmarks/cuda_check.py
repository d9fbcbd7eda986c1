"""The CUDA path in a few minutes: correctness against CPU, training, precisions, ddp,
and the throughput tables on the GPU. Prints everything; writes results/cuda_check.json.

    python -m benchmarks.cuda_check               # on a machine with a CUDA device
    python -m benchmarks.cuda_check --device cpu  # dry run of the script itself

1. Every cell x topology (and 2 layers, bidirectional where the topology allows): the
   same weights and input on CPU and on the device, outputs and every gradient compared
   (TF32 off, so float32 should agree to ~1e-5).
2. `seqkit run` on the device: gru on sum (fp32, bf16, fp16 with the grad scaler,
   --compile) and lstm on adding T=100, each checked for learning.
3. `seqkit run --trainer ddp --nproc 1` on the device (nccl).
4. `benchmarks.hardware` on the device (notebook, compute and large sizes).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import time

import torch

import seqkit
from benchmarks.common import RESULTS

TOPOLOGIES = {
    "one-to-one": (1, 1),
    "one-to-many": (1, 10),
    "many-to-one": (12, 1),
    "many-to-many": (12, 12),
    "seq2seq": (12, 7),
}


def correctness(device: torch.device) -> list[dict]:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = []
    for cell in ("rnn", "lstm", "gru"):
        for topology, (t_in, t_out) in TOPOLOGIES.items():
            for opts in ({}, {"num_layers": 2, "bidirectional": True}):
                if opts.get("bidirectional") and topology in ("one-to-many", "seq2seq"):
                    continue  # these run the cell step by step
                torch.manual_seed(0)
                cpu = seqkit.build_model(
                    cell, topology, input_size=3, hidden_size=16, output_size=3,
                    input_len=t_in, output_len=t_out, cell_options=opts,
                )  # fmt: skip
                dev = copy.deepcopy(cpu).to(device)
                x = torch.randn(8, t_in, 3)
                out_c, out_d = cpu(x), dev(x.to(device))
                out_c.square().mean().backward()
                out_d.square().mean().backward()
                err_out = (out_c - out_d.cpu()).abs().max().item()
                err_grad = max(
                    (p.grad - q.grad.cpu()).abs().max().item()
                    for p, q in zip(cpu.parameters(), dev.parameters(), strict=True)
                )
                ok = err_out < 1e-4 and err_grad < 1e-4
                rows.append(
                    {"cell": cell, "topology": topology, **opts, "max_out_err": err_out,
                     "max_grad_err": err_grad, "ok": ok}
                )  # fmt: skip
                print(
                    f"{cell:<5}{topology:<13}{opts or ''!s:<40}"
                    f"out {err_out:.1e}  grad {err_grad:.1e}  {'ok' if ok else 'MISMATCH'}",
                    flush=True,
                )
    return rows


RUNS = {
    "gru sum fp32": dict(cell="gru", task="sum"),
    "gru sum bf16": dict(cell="gru", task="sum", precision="bf16"),
    "gru sum fp16": dict(cell="gru", task="sum", precision="fp16"),
    "lstm sum bf16": dict(cell="lstm", task="sum", precision="bf16"),
    "gru sum compile": dict(cell="gru", task="sum", compile=True),
    "lstm adding T=100": dict(cell="lstm", task="adding", epochs=15, task_options={"seq_len": 100}),
}


def training(device: torch.device) -> list[dict]:
    rows = []
    for name, settings in RUNS.items():
        t0 = time.perf_counter()
        try:
            r = seqkit.run(**settings, device=str(device), seed=0)
            row = {
                "run": name,
                "val_loss": r.metrics["val_loss"],
                "chance": r.chance_loss,
                "learned": r.metrics["val_loss"] < 0.05 * r.chance_loss,
                "seconds": time.perf_counter() - t0,
                "train_s": r.train_time,
            }
        except Exception as exc:  # report and go on: one failure must not hide the rest
            row = {"run": name, "error": f"{type(exc).__name__}: {exc}"}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def ddp(device: torch.device) -> dict:
    cmd = [sys.executable, "-m", "seqkit", "run", "--trainer", "ddp", "--nproc", "1",
           "--cell", "lstm", "--task", "sum", "--device", device.type, "--json", "-q",
           "--out", str(RESULTS / "cuda_check_ddp"), "--overwrite"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    row = {"returncode": res.returncode, "stderr_tail": res.stderr[-600:]}
    if res.returncode == 0:
        summary = json.loads(res.stdout.strip().splitlines()[-1])
        row |= {"val_loss": summary["val_loss"], "chance": summary["chance_loss"]}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--skip", default="", help="comma list: correct,train,ddp,bench")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device here: run on a GPU machine, or --device cpu for a dry run")
    skip = set(args.skip.split(","))
    info = {"torch": torch.__version__, "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cudnn"] = torch.backends.cudnn.version()
    print(json.dumps(info))
    result: dict = {"info": info}
    if "correct" not in skip:
        result["correctness"] = correctness(device)
    if "train" not in skip:
        result["training"] = training(device)
    if "ddp" not in skip:
        result["ddp"] = ddp(device)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cuda_check.json").write_text(json.dumps(result, indent=2))
    if "bench" not in skip:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.hardware", "--device", str(device),
             "--sizes", "notebook,compute,large"],
            check=False,
        )  # fmt: skip
    bad = [r for r in result.get("correctness", []) if not r["ok"]]
    print(f"\ncorrectness: {len(result.get('correctness', [])) - len(bad)} ok, {len(bad)} off")


if __name__ == "__main__":
    main()
