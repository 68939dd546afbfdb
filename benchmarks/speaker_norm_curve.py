"""Exploratory curve over classify.enrol: pooled UAR of the linear SVM (C = 0.001), one run seed,
leave-one-speaker-out, for normalise none / speaker / speaker_mean and enrol all, 1, 3, 5, 10; with
each enrolment run, `none` restricted to the same scored utterances (enrolment ones dropped).

    PYTHONPATH=src python benchmarks/speaker_norm_curve.py data/manifest.csv data/features/IS11.parquet
"""

import sys
import time

from sklearn.metrics import accuracy_score, balanced_accuracy_score

from adan_ser.evaluation.evaluate import evaluate_corpus


def main(manifest: str, features: str, seed: int = 0) -> None:
    kw = dict(scheme="leave-one-speaker-out", models={"svm": {"kernel": "linear", "C": 0.001}}, seeds=[seed],
              corpus="c", feature_set="f", train_data=(), scheduler="local")
    none = evaluate_corpus(manifest, features, normalise="none", **kw)
    print(f"none: n_scored={len(none)} WA={100 * accuracy_score(none['true'], none['pred']):.2f} "
          f"UAR={100 * balanced_accuracy_score(none['true'], none['pred']):.2f}", flush=True)
    for normalise in ("speaker", "speaker_mean"):
        for enrol in (None, 1, 3, 5, 10):
            t = time.time()
            pred = evaluate_corpus(manifest, features, normalise=normalise, enrol=enrol, **kw)
            same = none[none["file"].isin(set(pred["file"]))]
            print(f"normalise={normalise} enrol={enrol}: n_scored={len(pred)} "
                  f"WA={100 * accuracy_score(pred['true'], pred['pred']):.2f} "
                  f"UAR={100 * balanced_accuracy_score(pred['true'], pred['pred']):.2f}; none on the same rows "
                  f"UAR={100 * balanced_accuracy_score(same['true'], same['pred']):.2f} ({time.time() - t:.0f}s)",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
