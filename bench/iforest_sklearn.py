"""scikit-learn's IsolationForest on the CSV bench/iforest.ts writes (the reference for its AUC and speed).

Usage: python3 bench/iforest_sklearn.py DATA.csv SCORES.f64 REPEATS SEED

DATA.csv has a header, the features, and the label (1 = planted outlier) as the last column.
Fits IsolationForest(n_estimators=100, max_samples=256, random_state=SEED) and scores every
row, REPEATS times; only fit + score_samples are timed (not start-up, imports or CSV parsing).
Writes the anomaly scores of the first repeat (-score_samples, so higher = more anomalous, as
in the paper) as little-endian float64 to SCORES.f64, and prints one JSON line: the timings,
scikit-learn's own roc_auc_score, and the versions.
"""

import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def main() -> None:
    data_path, scores_path, repeats, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    data = np.loadtxt(data_path, delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1].astype(int)
    fit_s, score_s, total_s = [], [], []
    first = None
    for _ in range(repeats):
        model = IsolationForest(n_estimators=100, max_samples=256, random_state=seed)
        t0 = time.perf_counter()
        model.fit(x)
        t1 = time.perf_counter()
        scores = -model.score_samples(x)
        t2 = time.perf_counter()
        fit_s.append(t1 - t0)
        score_s.append(t2 - t1)
        total_s.append(t2 - t0)
        if first is None:
            first = scores
    assert first is not None
    first.astype("<f8").tofile(scores_path)
    print(
        json.dumps(
            {
                "rows": int(x.shape[0]),
                "features": int(x.shape[1]),
                "fit_s": fit_s,
                "score_s": score_s,
                "total_s": total_s,
                "sklearn_roc_auc": float(roc_auc_score(y, first)),
                "sklearn_version": sklearn.__version__,
                "numpy_version": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
