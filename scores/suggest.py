"""A K-means suggestion for the lifecycle thresholds, shown beside the team's rules.

The rules stay the team's: the suggestion clusters the active customers on (log holdings value,
holdings trend) and proposes the two thresholds that separate the clusters — the value between the
two richest cluster centres (→ mature) and the trend between the most falling centre and the next
(→ declining). The manager sees the centres and may accept; nothing changes until they do.
"""

import numpy as np
from sklearn.cluster import KMeans

from .selectors import published_run, run_frame

CLUSTERS = 4
SAMPLE = 100_000


def lifecycle_suggestion(*, seed: int = 0) -> dict | None:
    run = published_run()
    if run is None:
        return None
    frame = run_frame(run.pk, ["holdings_value", "holdings_trend", "recency_days"])
    active = frame[frame["recency_days"].notna() & frame["holdings_value"].notna()
                   & frame["holdings_trend"].notna()]
    if len(active) < CLUSTERS * 10:
        return None
    if len(active) > SAMPLE:
        active = active.sample(SAMPLE, random_state=seed)
    points = np.column_stack([np.log10(1 + active["holdings_value"].clip(lower=0).to_numpy(dtype=float)),
                              active["holdings_trend"].clip(-1, 2).to_numpy(dtype=float)])
    scale = points.std(axis=0)
    scale[scale == 0] = 1
    model = KMeans(n_clusters=CLUSTERS, n_init=10, random_state=seed).fit(points / scale)
    centres = model.cluster_centers_ * scale
    sizes = np.bincount(model.labels_, minlength=CLUSTERS)
    by_value = np.sort(centres[:, 0])
    by_trend = np.sort(centres[:, 1])
    return {
        "run": run.pk,
        "customers": int(len(active)),
        "centres": [{"value": round(float(10 ** value - 1), 2), "trend": round(float(trend), 4), "customers": int(size)}
                    for (value, trend), size in sorted(zip(centres.tolist(), sizes.tolist(), strict=True))],
        "mature_value": round(float(10 ** ((by_value[-1] + by_value[-2]) / 2) - 1), 2),
        "declining_trend": round(float((by_trend[0] + by_trend[1]) / 2), 4),
    }
