"""llmlab.emu: schedules change what a racy kernel computes; planted bugs raise with the
emulator's diagnostic."""

import os

import numpy as np
import pytest

import llmlab


def test_the_tree_with_its_barriers_is_right_under_every_schedule(rng):
    x = rng.uniform(-1, 1, (3, 300)).astype(np.float32)
    for order in ["forward", "reverse", "random:7"]:
        with llmlab.emu.schedule(order):
            np.testing.assert_allclose(llmlab.emu.tree_reduce_sum(x), x.sum(axis=1), rtol=1e-5, atol=1e-5)


def test_a_forgotten_syncthreads_passes_in_reverse_but_fails_forward_and_random(rng, monkeypatch):
    # The schedules alone, with the race detector off (it reports the race under every schedule:
    # the next test).
    monkeypatch.setenv("LLMLAB_EMU_RACECHECK", "0")
    monkeypatch.setenv("LLMLAB_EMU_INITCHECK", "0")
    x = rng.uniform(0.5, 1, (3, 300)).astype(np.float32)
    want = x.astype(np.float64).sum(axis=1)

    def err(order):
        with llmlab.emu.schedule(order):
            return np.abs(llmlab.emu.tree_reduce_sum(x, syncthreads=False) - want).max()

    # Each of the 256 partial sums is about 0.9 (300 columns of 0.5-1): reading one before its
    # owner wrote it is off by at least 0.5, while the right order is off by float rounding only.
    assert err("reverse") < 1e-3
    assert err("forward") > 0.25
    assert err("random:7") > 0.25


@pytest.mark.parametrize("order", ["forward", "reverse", "random:7"])
def test_the_race_detector_reports_a_forgotten_syncthreads_under_every_schedule(rng, order):
    x = rng.uniform(0.5, 1, (3, 300)).astype(np.float32)
    with llmlab.emu.schedule(order), pytest.raises(llmlab.LaunchError) as e:
        llmlab.emu.tree_reduce_sum(x, syncthreads=False)
    assert "data race" in str(e.value) and "planted_bugs.cu:" in str(e.value)


def test_schedule_restores_the_environment():
    before = os.environ.get("LLMLAB_EMU_SCHEDULE")
    with llmlab.emu.schedule("reverse"):
        assert os.environ["LLMLAB_EMU_SCHEDULE"] == "reverse"
    assert os.environ.get("LLMLAB_EMU_SCHEDULE") == before


@pytest.mark.parametrize(
    "name, words",
    [
        ("divergent_barrier", ["divergent", "divergent_barrier", "planted_bugs.cu:"]),
        ("shuffle_after_exit", ["never arrives", "exited without reaching __shfl_down_sync", "block (0,0,0) thread ("]),
        ("deadlock", ["deadlock", "__syncthreads at", "planted_bugs.cu:"]),
    ],
)
def test_a_planted_bug_raises_with_the_diagnostic(name, words):
    # Under the forward schedule: which of two true diagnostics a shuffle after an exit gets (the
    # exiting lane's "exited without reaching", or the waiting lane's "names lanes that exited")
    # depends on the order, and a random schedule's order depends on every launch before it in
    # this process — adding another test file changed it.
    with llmlab.emu.schedule("forward"), pytest.raises(llmlab.LaunchError) as e:
        llmlab.emu.run_planted_bug(name)
    for w in words:
        assert w in str(e.value)
    assert llmlab.emu.last_diagnostic() in str(e.value)


def test_an_unknown_bug_raises_naming_the_choices():
    with pytest.raises(llmlab.Error, match="no bug named 'typo'.*divergent_barrier"):
        llmlab.emu.run_planted_bug("typo")


def test_a_bad_schedule_is_a_launch_error(rng, monkeypatch):
    # llmlab.emu.schedule refuses it up front (test_hostile.py); set by hand, the emulator itself
    # refuses it at the launch.
    monkeypatch.setenv("LLMLAB_EMU_SCHEDULE", "sideways")
    with pytest.raises(llmlab.LaunchError, match="LLMLAB_EMU_SCHEDULE='sideways'"):
        llmlab.cuda.reduce_sum(np.ones((1, 4), np.float32))
