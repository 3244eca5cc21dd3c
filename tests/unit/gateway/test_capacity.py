"""The capacity bench's own judgement: the simulated earpiece (stalls, marks) and the quantiles it reads from
the server's histogram. The bench against a real gateway: tests/integration/test_capacity_bench.py."""

from gateway.capacity.lines import CallFigures, Earpiece
from gateway.capacity.server import ServerSample, histogram_quantile, lag_between, stage_means_ms


def test_the_earpiece_plays_a_frame_a_tick_and_echoes_a_mark_once_the_audio_before_it_played():
    ear, figures = Earpiece(), CallFigures()
    ear.audio(2, now=0.0, figures=figures)
    ear.mark("p1")
    ear.audio(1, now=0.0, figures=figures)
    assert ear.play(0.02) == []
    assert ear.play(0.04) == ["p1"]  # the two frames before it have played
    assert ear.play(0.06) == [] and ear.buffered == 0
    assert figures.frames_heard == 3 and figures.stalls == []


def test_a_gap_in_the_middle_of_the_assistants_speech_is_a_stall_a_pause_between_replies_is_not():
    ear, figures = Earpiece(), CallFigures()
    ear.audio(1, now=0.0, figures=figures)
    ear.play(0.02)  # dry from here
    ear.audio(1, now=0.12, figures=figures)  # 100 ms later: the player ran dry mid-reply
    assert [round(s, 3) for s in figures.stalls] == [0.1]
    ear.play(0.14)
    ear.audio(1, now=1.5, figures=figures)  # well over a second later: the next reply
    assert len(figures.stalls) == 1


def test_a_clear_drops_the_buffer_and_hands_back_the_pending_marks():
    ear, figures = Earpiece(), CallFigures()
    ear.audio(5, now=0.0, figures=figures)
    ear.mark("p1")
    ear.audio(5, now=0.0, figures=figures)
    ear.mark("p2")
    assert ear.clear() == ["p1", "p2"] and ear.buffered == 0
    ear.audio(1, now=0.05, figures=figures)  # the next reply after a barge-in is no stall
    assert figures.stalls == []


def test_quantiles_of_the_tick_lag_are_the_bounds_of_the_buckets_that_hold_them():
    before = [(0.001, 10.0), (0.002, 10.0), (0.005, 10.0), (float("inf"), 10.0)]
    after = [(0.001, 100.0), (0.002, 108.0), (0.005, 109.0), (float("inf"), 110.0)]
    added = lag_between(before, after)
    assert added == [(0.001, 90.0), (0.002, 98.0), (0.005, 99.0), (float("inf"), 100.0)]
    assert histogram_quantile(added, 0.5) == 0.001
    assert histogram_quantile(added, 0.99) == 0.005
    assert histogram_quantile([], 0.5) is None


def test_where_the_turns_time_went_is_the_mean_of_each_stage_over_the_turns_of_the_run():
    before = ServerSample(1.0, 1e8, [], 0, {"asr": (2.0, 10.0), "llm_first_token": (1.0, 10.0)})
    after = ServerSample(9.0, 1e8, [], 0, {"asr": (3.0, 20.0), "llm_first_token": (1.0, 10.0),
                                           "first_audio": (4.0, 5.0)})
    assert stage_means_ms(before, after) == {"asr": 100.0, "first_audio": 800.0}  # no new turn: no llm figure
