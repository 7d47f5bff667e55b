"""aims versus Microsoft Presidio (analyzer 2.2.x, regex-only with its no_op NLP engine) on the
same texts in the same run: per-entity precision, recall and F1, and texts per second.

Data: presidio-evaluator's PresidioSentenceFaker (en_US, seed 42) plus our own set
(own_set.py, seed 7). Nothing is downloaded: both are generated here.

Usage: evaluate.py AIMS_BINARY OUT_DIR [N_SENTENCES]
"""

import json
import logging
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import own_set

# Entity names both tools report, in Presidio's naming.
SHARED = [
    "CREDIT_CARD", "IBAN_CODE", "US_SSN", "US_ITIN", "UK_NHS", "UK_NINO", "IP_ADDRESS",
    "MAC_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER", "CRYPTO", "URL",
]
# presidio-evaluator labels URLs as DOMAIN_NAME.
GOLD_ALIASES = {"DOMAIN_NAME": "URL"}
PRESIDIO_STRICT_SCORE = 0.5


def faker_sentences(n):
    from presidio_evaluator.data_generator import PresidioSentenceFaker

    faker = PresidioSentenceFaker(locale="en_US", lower_case_ratio=0.05, random_seed=42)
    out = []
    for s in faker.generate_new_fake_sentences(num_samples=n):
        spans = [
            {"entity": GOLD_ALIASES.get(span.entity_type, span.entity_type),
             "start": span.start_position, "end": span.end_position}
            for span in s.spans
        ]
        out.append({"text": s.full_text, "spans": spans, "group": f"template_{s.template_id}"})
    return out


def presidio_analyzer():
    import presidio_analyzer
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    conf = Path(presidio_analyzer.__file__).parent / "conf" / "no_op.yaml"
    nlp_engine = NlpEngineProvider(conf_file=str(conf)).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def run_presidio(analyzer, texts):
    start = time.process_time()
    results = [analyzer.analyze(text=text, language="en") for text in texts]
    elapsed = time.process_time() - start
    predictions = [
        [{"entity": r.entity_type, "start": r.start, "end": r.end, "score": r.score} for r in rs]
        for rs in results
    ]
    return predictions, elapsed


# The batch is scanned once and then REPEAT times in one process; the difference is the
# warm cost (Presidio is warmed up too), the single run the cold end-to-end cost. Costs are
# CPU seconds (user + system) of the process doing the work: on a shared machine wall time
# mostly measures the neighbours.
REPEAT = 5


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def aims_batch(binary, texts, rounds):
    payload = "".join(json.dumps(text) + "\n" for text in texts).encode() * rounds
    before = children_cpu()
    done = subprocess.run([binary, "pii", "scan", "--jsonl"], input=payload, capture_output=True)
    elapsed = children_cpu() - before
    if done.returncode not in (0, 1):
        sys.exit(f"aims failed: {done.stderr.decode()}")
    return done.stdout.decode().splitlines(), elapsed


def run_aims(binary, texts):
    """Findings, cold CPU seconds (one process: start-up, phone metadata load, JSON I/O) and
    warm CPU seconds for the batch (the marginal cost of scanning it again in that process)."""
    lines, cold = aims_batch(binary, texts, 1)
    assert len(lines) == len(texts), (len(lines), len(texts))
    _, repeated = aims_batch(binary, texts, REPEAT)
    warm = (repeated - cold) / (REPEAT - 1)
    return [json.loads(line) for line in lines], cold, warm


def score(samples, predictions, min_score=None):
    """Per-entity counts. A prediction is a true positive when it has the gold span's entity
    and overlaps it; each gold span and each prediction is matched at most once."""
    counts = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    for sample, predicted in zip(samples, predictions):
        if min_score is not None:
            predicted = [p for p in predicted if p.get("score", 1.0) >= min_score]
        entities = {s["entity"] for s in sample["spans"]} | {p["entity"] for p in predicted}
        for entity in entities:
            gold = [s for s in sample["spans"] if s["entity"] == entity]
            pred = [p for p in predicted if p["entity"] == entity]
            used = set()
            for g in gold:
                match = next(
                    (i for i, p in enumerate(pred)
                     if i not in used and p["start"] < g["end"] and g["start"] < p["end"]),
                    None,
                )
                if match is None:
                    counts[entity]["fn"] += 1
                else:
                    used.add(match)
                    counts[entity]["tp"] += 1
            counts[entity]["fp"] += len(pred) - len(used)
    return counts


def prf(c):
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, **c}


def evaluate(name, samples, analyzer, binary):
    texts = [s["text"] for s in samples]
    presidio_pred, presidio_s = run_presidio(analyzer, texts)
    aims_pred, aims_cold_s, aims_s = run_aims(binary, texts)
    systems = {
        "aims": score(samples, aims_pred),
        "presidio": score(samples, presidio_pred),
        f"presidio_score>={PRESIDIO_STRICT_SCORE}": score(samples, presidio_pred, PRESIDIO_STRICT_SCORE),
    }
    gold_entities = {s["entity"] for sample in samples for s in sample["spans"]}
    entities = [e for e in SHARED if e in gold_entities or any(e in c for c in systems.values())]
    table = {
        entity: {system: prf(counts[entity]) for system, counts in systems.items()}
        for entity in entities
    }
    # Findings on the negatives (one-digit-changed cards and IBANs): every one is a false positive.
    negatives = {}
    for system, preds in (("aims", aims_pred), ("presidio", presidio_pred)):
        negatives[system] = sum(
            1 for s, p in zip(samples, preds)
            if s["group"].endswith("_negatives") and any(x["entity"] in ("CREDIT_CARD", "IBAN_CODE") for x in p)
        )
    return {
        "dataset": name,
        "texts": len(texts),
        "mean_chars": sum(map(len, texts)) / len(texts),
        "seconds": {"aims": aims_s, "aims_cold": aims_cold_s, "presidio": presidio_s},
        "texts_per_second": {
            "aims": len(texts) / aims_s,
            "aims_cold": len(texts) / aims_cold_s,
            "presidio": len(texts) / presidio_s,
        },
        "speedup": presidio_s / aims_s,
        "negatives_flagged": negatives,
        "entities": table,
    }


def markdown(result):
    lines = [
        f"#### {result['dataset']}: {result['texts']} texts, mean {result['mean_chars']:.0f} characters",
        "",
        f"Throughput (warm, per CPU second): aims {result['texts_per_second']['aims']:,.0f} texts/s, Presidio "
        f"{result['texts_per_second']['presidio']:,.0f} texts/s: **{result['speedup']:,.0f}x**. "
        f"aims cold, one process for the batch including start-up: "
        f"{result['texts_per_second']['aims_cold']:,.0f} texts/s "
        f"({result['texts_per_second']['aims_cold'] / result['texts_per_second']['presidio']:,.0f}x).",
        "",
        "| entity | gold | aims P | aims R | aims F1 | Presidio P | Presidio R | Presidio F1 | Presidio F1 (score >= 0.5) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entity, row in result["entities"].items():
        a, p, s = row["aims"], row["presidio"], row[f"presidio_score>={PRESIDIO_STRICT_SCORE}"]
        gold = a["tp"] + a["fn"]
        lines.append(
            f"| {entity} | {gold} | {a['precision']:.3f} | {a['recall']:.3f} | **{a['f1']:.3f}** | "
            f"{p['precision']:.3f} | {p['recall']:.3f} | {p['f1']:.3f} | {s['f1']:.3f} |"
        )
    lines.append("")
    lines.append(
        f"One-digit-changed card and IBAN negatives flagged: aims {result['negatives_flagged']['aims']}, "
        f"Presidio {result['negatives_flagged']['presidio']}."
    )
    return "\n".join(lines)


def main():
    logging.disable(logging.WARNING)
    binary, out_dir = sys.argv[1], Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 6000
    out_dir.mkdir(parents=True, exist_ok=True)
    analyzer = presidio_analyzer()
    analyzer.analyze(text="warm up 4111 1111 1111 1111", language="en")
    datasets = [("presidio-evaluator sentences", faker_sentences(n)), ("aims own set", own_set.generate())]
    results = [evaluate(name, samples, analyzer, binary) for name, samples in datasets]
    for (name, samples), result in zip(datasets, results):
        slug = name.replace(" ", "_")
        (out_dir / f"{slug}.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    (out_dir / "results.json").write_text(json.dumps(results, indent=1))
    print("\n\n".join(markdown(r) for r in results))


if __name__ == "__main__":
    main()
