"""Report sections about chips and clusters: specs, export controls, real workloads, clustering
and CPUs (claims 1-4 and 9 of QUESTIONS.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chipgap.analyses import infer, train
from chipgap.analyses.accuracy import kind_of, predictions, summary
from chipgap.analyses.answer import answer, summarize
from chipgap.analyses.efficiency import efficiency_for
from chipgap.catalog.question import ServeQuestion
from chipgap.errors import ChipgapError
from chipgap.report import context as cx
from chipgap.report.context import Context, chip_cell, q_cell
from chipgap.report.document import Chart, Section, Table, cell
from chipgap.text import num, ratio

SPEC_FIELDS = (("bf16_dense_tflops", "BF16 TFLOPS"), ("fp8_dense_tflops", "FP8 TFLOPS"),
               ("memory_capacity_gib", "memory GiB"), ("memory_bw_gbps", "memory GB/s"),
               ("scaleup_bw_gbps_unidir", "scale-up GB/s each way"), ("tdp_w", "TDP W"))


def spec_gap(ctx: Context) -> Section:
    s = Section("spec-gap", 3, "The spec gap",
                "How far is the Ascend 910C from the H100 on paper, and where do other chips sit?")
    cat = ctx.catalog
    rows = []
    for cid in cx.SPEC_CHIPS:
        c = cat.chip(cid)
        rows.append([cell(c.name), *(q_cell(getattr(c, f)) for f, _ in SPEC_FIELDS)])
    s.tables.append(Table("Headline specs (dense, per package)", ["chip", *(h for _, h in SPEC_FIELDS)], rows,
                          "Ranges are point (low-high) where sources disagree; 'est.' marks an estimate, "
                          "'rumour' a single unconfirmed report. Scale-up bandwidth is one direction."))
    a, h = cat.chip("huawei-ascend-910c"), cat.chip("nvidia-h100-sxm")
    for f in ("bf16_dense_tflops", "memory_bw_gbps", "memory_capacity_gib", "scaleup_bw_gbps_unidir"):
        qa, qh = getattr(a, f), getattr(h, f)
        s.numbers[f"ratio.{f}"] = qa.point / qh.point
        s.numbers[f"ratio.{f}.low"] = qa.bounds[0] / qh.bounds[1]
        s.numbers[f"ratio.{f}.high"] = qa.bounds[1] / qh.bounds[0]
        s.cite(qa.source, qh.source)
    s.paragraphs.append(
        f"The 910C has {ratio(s.numbers['ratio.bf16_dense_tflops'])} the H100's dense BF16 peak "
        f"({s.numbers['ratio.bf16_dense_tflops.low']:.2f}-{s.numbers['ratio.bf16_dense_tflops.high']:.2f} "
        f"over the sources' range), {ratio(s.numbers['ratio.memory_bw_gbps'])} its memory bandwidth, "
        f"{ratio(s.numbers['ratio.memory_capacity_gib'])} its memory and "
        f"{ratio(s.numbers['ratio.scaleup_bw_gbps_unidir'])} its scale-up bandwidth. It has no FP8 units, "
        "so FP8 training and serving run at its BF16 (or INT8) rate. It is two dies in one package; "
        "per die it is about 0.38x an H100.")
    return s


def workloads(ctx: Context) -> Section:
    s = Section("workloads", 3, "The gap on real workloads",
                "What does the spec gap become when the chips train and serve named models?")
    cat, t = ctx.catalog, cx.asks()["train-70b"]
    rows, per_chip = [], {}
    for cid in t.chips:
        try:
            df = answer(cat, t.question(cid, ctx.samples, ctx.seed)).samples
        except ChipgapError as e:
            s.missing.append(f"{cid}: {e}")
            continue
        per_chip[cid] = df
        s.numbers[f"basis.{cid}"] = efficiency_for(cat, cid)[1]
        sm = summarize(df, ("tokens_per_s", "mfu", "tflops_per_chip"))
        best = df.iloc[0]
        layout = f"TP{best.tp} PP{best.pp} DP{best.dp}" + (f" CP{best.cp}" if best.cp > 1 else "") \
            + (" over dies" if train.devices_per_chip(cat, cid) > 1 else "")
        for m in ("tokens_per_s", "mfu", "tflops_per_chip"):
            for q in ("p10", "p50", "p90"):
                s.numbers[f"train.{cid}.{m}.{q}"] = float(sm.loc[m, q])
        rows.append([chip_cell(cat, cid), cell(layout),
                     *(cell(sm.loc[m, "p50"], (), sm.loc[m, "p10"], sm.loc[m, "p90"])
                       for m in ("tokens_per_s", "tflops_per_chip", "mfu"))])
        s.cite(cat.chip(cid).bf16_dense_tflops.source)
    ctx.shared["train"] = per_chip
    h100 = s.numbers["train.nvidia-h100-sxm.tokens_per_s.p50"]
    for row, cid in zip(rows, per_chip):
        row.append(cell(s.numbers[f"train.{cid}.tokens_per_s.p50"] / h100))
    tq = t.question(t.chips[0])
    s.tables.append(Table(f"Training {tq.model} on {tq.chips:,} chips ({tq.seq_len:,}-token sequences, "
                          f"{tq.global_batch:,} per step), best layout per chip",
                          ["chip", "layout", "tokens/s", "TFLOPS per chip", "MFU", "vs H100"], rows,
                          "P50 (P10-P90) over the chips' spec ranges; each in its usual system (910C in "
                          "a CloudMatrix 384, GB200 in an NVL72, others in 8-GPU HGX). Model error is "
                          "separate: see the accuracy benchmark."))
    from chipgap.plots.ranges import relative_ranges_chart
    s.charts.append(Chart.from_figure(
        "training-vs-h100.png", "Training throughput per chip against the H100",
        relative_ranges_chart({cat.chip(c).name: df.tokens_per_s.to_numpy() for c, df in per_chip.items()},
                              cat.chip("nvidia-h100-sxm").name,
                              f"{tq.model} training throughput per chip, relative to the H100",
                              "tokens/s per chip over the H100's (bar P50, whisker P10-P90)")))
    _serving_dense(ctx, s)
    _serving_moe(ctx, s)
    a = s.numbers["train.huawei-ascend-910c.tokens_per_s.p50"] / h100
    s.numbers["train.910c_vs_h100"] = a
    peak = ctx.catalog.chip("huawei-ascend-910c").bf16_dense_tflops.point / \
        ctx.catalog.chip("nvidia-h100-sxm").bf16_dense_tflops.point
    closer = "narrower than" if a > peak * 1.02 else "wider than" if a < peak * 0.98 else "about"
    s.paragraphs.append(
        f"Training {tq.model}, the 910C reaches {ratio(a)} an H100's throughput per chip "
        f"(MFU {num(s.numbers['train.huawei-ascend-910c.mfu.p50'])} against "
        f"{num(s.numbers['train.nvidia-h100-sxm.mfu.p50'])}): {closer} the {ratio(peak)} peak-FLOPS gap. "
        "The breakdown behind each number is one 'chipgap train' call away.")
    return s


def _serving_dense(ctx: Context, s: Section) -> None:
    cat, ask = ctx.catalog, cx.asks()["serve-70b"]
    q = ask.question(ask.chips[0])
    rows = []
    for cid in ask.chips:
        try:
            df = answer(cat, ask.question(cid, ctx.samples, ctx.seed)).samples
        except ChipgapError as e:
            s.missing.append(f"serving {q.model} on {cid}: {e}")
            continue
        sm = summarize(df, ("tokens_per_s_per_chip", "tpot_ms", "ttft_ms"))
        ctx.shared.setdefault("serve_rate", {})[cid] = float(sm.loc["tokens_per_s_per_chip", "p50"])
        for m in ("tokens_per_s_per_chip", "tpot_ms"):
            for p in ("p10", "p50", "p90"):
                s.numbers[f"serve.{cid}.{m}.{p}"] = float(sm.loc[m, p])
        over = " over dies" if train.devices_per_chip(cat, cid) > 1 else ""
        rows.append([chip_cell(cat, cid), cell(f"TP{df.tp.iloc[0]} DP{df.dp.iloc[0]}{over}, batch {df.batch.iloc[0]}"),
                     *(cell(sm.loc[m, "p50"], (), sm.loc[m, "p10"], sm.loc[m, "p90"])
                       for m in ("tokens_per_s_per_chip", "tpot_ms", "ttft_ms"))])
    s.tables.append(Table(f"Serving {q.model} on {q.chips} chips ({q.input_len:,} in, "
                          f"{q.output_len} out, TPOT under {q.tpot_ms:g} ms), BF16 weights",
                          ["chip", "layout", "tokens/s per chip", "TPOT ms", "TTFT ms"], rows))


def _serving_moe(ctx: Context, s: Section) -> None:
    cat = ctx.catalog
    rows, fronts = [], {}
    for ask in (cx.asks()[k] for k in cx.MOE_ASKS):
        for cid in ask.chips:
            q = ask.question(cid)
            a = answer(cat, q)
            n, precision = q.chips, q.weight_precision
            fronts[f"{n} x {cat.chip(cid).name}"] = a.table
            top = a.best(1)
            if top.empty:
                s.missing.append(f"{q.model} decode on {n} x {cid}: no layout meets the TPOT")
                continue
            b = top.iloc[0]
            s.numbers[f"moe.{cid}.tokens_per_s_per_chip"] = float(b.tokens_per_s_per_chip)
            ctx.shared.setdefault("moe_rate", {})[cid] = float(b.tokens_per_s_per_chip)
            step = sum(b[k] for k in infer.DECODE_BREAKDOWN)
            d = a.setup.devices
            rows.append([chip_cell(cat, cid), cell(f"{n} chips{f' ({n * d} dies)' if d > 1 else ''}, {precision}, "
                                                  f"EP{b.ep} DP{b.dp}"),
                         cell(float(b.tokens_per_s_per_chip)), cell(float(b.tpot_ms)), cell(int(b.batch)),
                         *(cell(100 * b[k] / step) for k in ("attention_s", "experts_s", "ep_comm_s", "tp_comm_s"))])
    s.tables.append(Table(f"{q.model} decode, {q.input_len:,}-token context, TPOT under {q.tpot_ms:g} ms",
                          ["chip", "instance", "tokens/s per chip", "TPOT ms", "sequences",
                           "% attention", "% experts", "% EP all-to-all", "% TP comm"], rows,
                          "Shares of one decode step. The 910C instance spans 160 packages (320 dies, each its own "
                          "device with its own copy of the attention weights) of a CloudMatrix 384, one UB domain; "
                          "H100/H800/H20 instances cross 18 servers over the network."))
    from chipgap.plots.pareto import pareto_chart
    s.charts.append(Chart.from_figure("deepseek-r1-pareto.png", f"{q.model} decode: throughput against latency",
                                      pareto_chart(fronts, q.tpot_ms),
                                      "Every layout and batch the model accepts (points) and each instance's "
                                      "Pareto front (lines); point estimates of the specs."))


def clustering(ctx: Context) -> Section:
    s = Section("clustering", 4, "Clustering: CloudMatrix 384 against NVL72 and HGX clusters",
                "Does putting many more chips in one scale-up domain close the per-chip gap?")
    cat, ask = ctx.catalog, cx.asks()["train-70b"]
    t = ask.question(ask.chips[0])
    train_runs = ctx.shared.get("train", {})
    rows = []
    for sid in cx.SYSTEMS:
        sys_rec = cat.system(sid)
        chip = cat.chip(sys_rec.chip)
        n = sys_rec.chip_count.point
        pflops = n * chip.bf16_dense_tflops.point / 1e3
        kw = sys_rec.power_kw.point if sys_rec.power_kw else np.nan
        tok = float(np.median(train_runs[chip.id].tokens_per_s)) / t.chips if chip.id in train_runs else np.nan
        s.numbers[f"system.{sid}.pflops"] = pflops
        s.numbers[f"system.{sid}.power_kw"] = kw
        s.numbers[f"system.{sid}.train_tokens_per_s"] = tok * n
        s.numbers[f"system.{sid}.tokens_per_kj"] = tok * n / kw if kw == kw else np.nan
        decode = ctx.shared.get("moe_rate", {}).get(chip.id, np.nan) * n
        s.numbers[f"system.{sid}.decode_tokens_per_s"] = decode
        s.cite(sys_rec.chip_count.source, sys_rec.power_kw.source if sys_rec.power_kw else ())
        rows.append([cell(sys_rec.name, chip_cell(cat, chip.id).sources), cell(int(n)),
                     cell(int(sys_rec.scaleup_domain_chips.point)), cell(pflops), q_cell(sys_rec.power_kw),
                     cell(sys_rec.power_basis or ""), cell(tok * n), cell(tok * n / kw if kw == kw else None),
                     cell(decode if decode == decode else "not computed"),
                     cell(decode / kw if decode == decode and kw == kw else None)])
    decode_model = cx.asks()[cx.MOE_ASKS[0]].model
    s.tables.append(Table(f"Systems: whole-system dense BF16, power, {t.model} training and "
                          f"{decode_model} decode throughput",
                          ["system", "chips", "scale-up domain", "BF16 PFLOPS", "power kW", "power basis",
                           "training tokens/s", "training tokens per kJ", "decode tokens/s",
                           "decode tokens per kJ"], rows,
                          "Training throughput is the system's share of a 1,024-chip job of systems of this kind; "
                          "decode throughput is the system's chips at the per-chip rate of the DeepSeek-R1 "
                          "instances above (4K context, TPOT under 50 ms). "
                          "Power bases differ: 'all-in' includes CPUs, switches, optics and cooling, 'it' the "
                          "IT load, 'accelerators' only the GPUs, so tokens per kJ compare like with like only "
                          "within a basis."))
    rows = []
    need_rate = float(np.median(train_runs["nvidia-h100-sxm"].tokens_per_s)) if "nvidia-h100-sxm" in train_runs else None
    if need_rate is None:
        s.missing.append("chips needed: the H100 training result is missing")
        return s
    for cid in ("huawei-ascend-910c", "huawei-ascend-910b", "nvidia-h20", "nvidia-h800-sxm", "nvidia-gb200"):
        df = train.chips_needed(cat, t.model_copy(update={"chip": cid}), need_rate)
        ok = df[df.reaches]
        n = int(ok.chips.iloc[0]) if len(ok) else None
        s.numbers[f"match.{cid}.chips"] = float(n) if n else np.nan
        rows.append([chip_cell(cat, cid), cell(n if n else f"not reached within {int(df.chips.max()):,}"),
                     cell(n / cx.MATCH_H100S if n else None)])
    s.tables.append(Table(f"Chips needed to match {cx.MATCH_H100S:,} H100s training {t.model} "
                          f"(global batch {t.global_batch:,})", ["chip", "chips needed", "per H100"], rows,
                          "The fewest chips, in steps of one 8-chip server, whose best layout reaches the "
                          "H100 cluster's rate (chipgap train --target-tokens-per-s); a fixed global batch "
                          "caps data parallelism, so past some size more chips stop helping."))
    a, b = cat.system("huawei-cloudmatrix-384"), cat.system("nvidia-gb200-nvl72")
    cm, nvl = s.numbers[f"system.{a.id}.pflops"], s.numbers[f"system.{b.id}.pflops"]
    s.paragraphs.append(
        f"A CloudMatrix 384 holds {num(cm)} dense BF16 PFLOPS against an NVL72's {num(nvl)}: "
        f"{ratio(cm / nvl)} the compute from {ratio(a.chip_count.point / b.chip_count.point)} the chips, at "
        f"{num(s.numbers[f'system.{a.id}.power_kw'])} kW ({a.power_basis}) against "
        f"{num(s.numbers[f'system.{b.id}.power_kw'])} kW ({b.power_basis}). Clustering buys system-level "
        "throughput with more chips and more power; per chip and per watt the gap stays.")
    return s


def cpus(ctx: Context) -> Section:
    s = Section("cpus", 9, "CPUs: distilled DeepSeek-R1 on Zhaoxin and x86 servers",
                "How fast does a distilled R1 model run on CPUs, where memory bandwidth decides?")
    cat = ctx.catalog
    rows = []
    for cid in cx.CPU_CHIPS:
        c = cat.chip(cid)
        for precision in ("bf16", "int4"):
            q = ServeQuestion(model=cx.CPU_MODEL, chip=cid, phase="decode", input_len=1024, output_len=512,
                              weight_precision=precision)
            one = answer(cat, q.model_copy(update={"batch": 1})).table
            batched = answer(cat, q.model_copy(update={"tpot_ms": 200.0}))
            many, setup = batched.best(1), batched.setup
            single = float(one.tokens_per_s.iloc[0])
            s.numbers[f"cpu.{cid}.{precision}.single_stream"] = single
            compute_known = c.bf16_dense_tflops is not None or c.fp32_dense_tflops is not None
            best_rate = float(many.tokens_per_s.iloc[0]) if len(many) and compute_known else np.nan
            s.numbers[f"cpu.{cid}.{precision}.best"] = best_rate
            rows.append([cell(c.name), q_cell(c.memory_bw_gbps), cell(precision), cell(single),
                         cell(best_rate) if best_rate == best_rate else cell("n/a: compute peak not public"),
                         cell("; ".join(a for a in setup.assumptions if not a.startswith("efficiency")))])
        s.cite(c.memory_bw_gbps.source)
    s.tables.append(Table(f"{cx.CPU_MODEL} decode on one CPU socket (1,024-token context)",
                          ["CPU", "memory GB/s", "weights", "tokens/s, one stream",
                           "tokens/s, best batch (TPOT < 200 ms)", "assumptions"], rows,
                          "Decode streams every weight once per step, so one stream runs at about memory "
                          "bandwidth / model bytes; larger batches share that read until compute binds."))
    z = s.numbers["cpu.zhaoxin-kh-40000.int4.single_stream"]
    x = s.numbers["cpu.intel-xeon-8480.int4.single_stream"]
    s.paragraphs.append(
        f"On a Zhaoxin KH-40000 socket the 7B distilled R1 decodes one stream at about {num(z)} tokens/s with "
        f"4-bit weights ({num(x)} on a Xeon 8480+): each token streams the weights from DRAM once, so one "
        "stream runs at memory bandwidth over model size. The Zhaoxin's compute peak is not public, so its "
        "batched throughput is not computed.")
    return s


def model_accuracy(ctx: Context) -> Section:
    s = Section("accuracy", None, "How far the performance numbers can be trusted",
                "How close does the model come to published runs of sources it was not fitted on?")
    cat = ctx.catalog
    df = predictions(cat)                      # each run predicted without its source group
    ctx.shared["accuracy"] = df
    targets = cat.all("target")
    for kind in ("training", "serving"):
        part = kind_of(df, kind)
        if part.empty:
            continue
        allrow = summary(part.assign(all="all"), "all").iloc[0]
        s.numbers[f"{kind}.cv.median_abs_error_pct"] = float(allrow.median_abs_error_pct)
        s.numbers[f"{kind}.cv.p90_abs_error_pct"] = float(allrow.p90_abs_error_pct)
        fam = summary(part, "family")
        for family, r in fam.iterrows():
            s.numbers[f"{kind}.cv.{family}.median_abs_error_pct"] = float(r.median_abs_error_pct)
            s.numbers[f"{kind}.cv.{family}.median_error_pct"] = float(r.median_error_pct)
        t = targets.get(kind)
        rows = [[cell(family), cell(int(r.runs)), cell(f"{r.median_error_pct:+.0f}%"),
                 cell(f"{r.median_abs_error_pct:.0f}%"), cell(f"{r.p90_abs_error_pct:.0f}%"),
                 cell(f"{r.worst_abs_error_pct:.0f}%")] for family, r in fam.iterrows()]
        rows.append([cell("all"), cell(int(allrow.runs)), cell(f"{allrow.median_error_pct:+.0f}%"),
                     cell(f"{allrow.median_abs_error_pct:.0f}%"), cell(f"{allrow.p90_abs_error_pct:.0f}%"),
                     cell(f"{allrow.worst_abs_error_pct:.0f}%")])
        note = (f"Target: median at most {t.median_abs_error_pct:g}%, P90 at most {t.p90_abs_error_pct:g}%. "
                if t is not None else "")
        s.tables.append(Table(f"{kind.capitalize()} model, cross-validated error by chip family",
                              ["family", "runs", "median (signed)", "median", "P90", "worst"], rows,
                              note + "Each run is predicted by the fit without its source group; a setting its "
                                     "source does not state is scored at its framework's documented default."))
        worst = part.assign(abs_error=part.error_pct.abs()).sort_values("abs_error", ascending=False).head(8)
        for r in worst.itertuples():
            s.cite(cat.get("run" if kind == "training" else "serving_run", r.run).source)
        s.tables.append(Table(f"{kind.capitalize()} runs the model misses most",
                              ["run", "chip", "model", "metric", "published", "predicted", "error"],
                              [[cell(r.run, cat.get("run" if kind == "training" else "serving_run", r.run).source),
                                cell(cat.chip(r.chip).name), cell(r.workload), cell(r.metric.replace("_", " ")),
                                cell(float(r.measured)), cell(float(r.predicted)), cell(f"{r.error_pct:+.0f}%")]
                               for r in worst.itertuples()]))
    n = s.numbers
    s.paragraphs.append(
        "The fitted constants (each software stack's GEMM efficiency, attention, FP8 GEMMs, the GEMM size "
        "effect and the per-layer overhead) are fitted on the calibration runs with a prior for each, and "
        "every run above is predicted by the fit that left out its whole source group: the error on work "
        "the model never saw, by source. "
        + (f"Training: median {n['training.cv.median_abs_error_pct']:.0f}%, P90 "
           f"{n['training.cv.p90_abs_error_pct']:.0f}%. " if "training.cv.median_abs_error_pct" in n else "")
        + (f"Serving: median {n['serving.cv.median_abs_error_pct']:.0f}%, P90 "
           f"{n['serving.cv.p90_abs_error_pct']:.0f}%. " if "serving.cv.median_abs_error_pct" in n else "")
        + "The P10-P90 ranges elsewhere carry the specs' uncertainty only; the claims ledger adds this model "
          "error for the chips it compares.")
    return s
