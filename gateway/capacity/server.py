"""The gateway's own figures for `parley bench capacity`, read from its /metrics (an admin key): CPU time and
resident memory of the process, and how late its outbound audio clocks woke."""

from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


@dataclass
class ServerSample:
    cpu_s: float  # process_cpu_seconds_total
    rss_bytes: float  # process_resident_memory_bytes
    tick_lag: list[tuple[float, float]]  # cumulative (upper bound s, count) over every channel
    calls_active: float
    stages: dict[str, tuple[float, float]]  # latency histogram -> (sum s, count) over every channel


# The gateway's latency breakdown of each turn (gateway/metrics.py): where a turn's time goes under load.
STAGES = {"parley_end_of_turn_delay_seconds": "end_of_turn", "parley_asr_seconds": "asr",
          "parley_llm_first_token_seconds": "llm_first_token", "parley_tts_first_audio_seconds": "tts_first_audio",
          "parley_first_audio_seconds": "first_audio"}


async def read_server(http: aiohttp.ClientSession, base_url: str, admin_key: str) -> ServerSample:
    async with http.get(base_url + "/metrics", headers={"Authorization": f"Bearer {admin_key}"}) as resp:
        text = await resp.text()
        if resp.status != 200:
            raise RuntimeError(f"/metrics: HTTP {resp.status} {text[:200]}")
    cpu = rss = active = 0.0
    lag: dict[float, float] = {}
    stages: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "process_cpu_seconds_total":
                cpu = sample.value
            elif sample.name == "process_resident_memory_bytes":
                rss = sample.value
            elif sample.name == "parley_calls_active":
                active += sample.value
            elif sample.name == "parley_outbound_tick_lag_seconds_bucket":
                bound = float(sample.labels["le"])
                lag[bound] = lag.get(bound, 0.0) + sample.value
            elif sample.name.endswith(("_sum", "_count")) and sample.name.rsplit("_", 1)[0] in STAGES:
                base, part = sample.name.rsplit("_", 1)
                totals = stages.setdefault(STAGES[base], [0.0, 0.0])
                totals[part == "count"] += sample.value
    return ServerSample(cpu, rss, sorted(lag.items()), active, {k: (v[0], v[1]) for k, v in stages.items()})


def stage_means_ms(before: ServerSample, after: ServerSample) -> dict[str, float]:
    """Each stage's mean (ms) over the turns stored between two samples."""
    means = {}
    for stage, (total, count) in after.stages.items():
        total0, count0 = before.stages.get(stage, (0.0, 0.0))
        if count > count0:
            means[stage] = round((total - total0) / (count - count0) * 1000, 1)
    return means


def histogram_quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """The upper bound of the bucket holding the q-th share of the counts (as Prometheus would bound it)."""
    if not buckets or buckets[-1][1] == 0:
        return None
    wanted = q * buckets[-1][1]
    for bound, cumulative in buckets:
        if cumulative >= wanted:
            return bound
    return buckets[-1][0]


def lag_between(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The tick-lag counts added between two samples."""
    earlier = dict(before)
    return [(bound, count - earlier.get(bound, 0.0)) for bound, count in after]
