"""`llmlab eval --bleu` end to end, judged by sacrebleu itself: a tiny model trained here (seconds),
its greedy continuations written by --bleu-out, rescored with sacrebleu.corpus_bleu; the line
llmlab printed must be sacrebleu's, and the score and statistics of bleu.json sacrebleu's to 1e-9.

The llmlab command line comes from LLMLAB_CLI (set by ctest) or build/default/apps/llmlab.
"""

import json
import os
import pathlib
import random
import subprocess
import sys

import pytest

import sacrebleu  # the outside reference (scripts/requirements.txt): without it the test fails

REPO = pathlib.Path(__file__).resolve().parents[2]
CLI = pathlib.Path(os.environ.get("LLMLAB_CLI", REPO / "build" / "default" / "apps" / "llmlab"))
TEXT = pathlib.Path("/usr/share/common-licenses/GPL-3")


def llmlab(*args):
    if args[0] == "eval":
        args = (*args, "--threads", "1")
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"llmlab {' '.join(map(str, args))}\n{r.stdout}\n{r.stderr}"
    return r.stdout


# Six sentences a model this small learns in seconds; documents are three of them each, so greedy
# continuations of the test split's documents write whole words and phrases of their references.
# (On the GPL's paragraphs the same model wrote "ne ne ne" or "ner ner ner" — one unigram match
# or none in 19 documents, depending on the last bits of the training's arithmetic.)
SENTENCES = ["the cat sat on the mat.", "a dog ran in the park.", "we read a book at home.",
             "the sun is warm today.", "my friend likes green tea.", "they walk to the old bridge."]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 1-layer model of width 48 trained 500 steps on 300 documents of SENTENCES (a few
    seconds, one thread): enough to write their words, so that BLEU has matches at every order."""
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: build the llmlab target")
    base = tmp_path_factory.mktemp("bleu")
    rng = random.Random(7)
    corpus = base / "sentences.txt"
    corpus.write_text("\n\n".join(" ".join(rng.choice(SENTENCES) for _ in range(3))
                                   for _ in range(300)) + "\n", encoding="utf-8")
    out = base / "run"
    llmlab("train", "--data", corpus, "--delimiter", "blank", "--val", "0.15", "--test", "0.1",
           "--vocab-size", "300", "--layers", "1", "--heads", "2", "--embd", "48", "--context", "32",
           "--batch", "8", "--lr", "1e-2", "--warmup", "5", "--min-lr", "1e-3", "--steps", "500",
           "--eval-every", "500", "--samples", "1", "--threads", "1", "--out", out)
    return out

def lines(path):
    # one segment a line, exactly as written (no universal-newline translation: there is none to do)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


def rescore(out_dir, stdout):
    hyps, refs = lines(out_dir / "hypotheses.txt"), lines(out_dir / "references.txt")
    assert len(hyps) == len(refs) == len(lines(out_dir / "prompts.txt")) > 0
    want = sacrebleu.corpus_bleu(hyps, [refs])
    printed = [l for l in stdout.splitlines() if l.startswith("BLEU = ")]
    assert printed == [str(want)]
    got = json.loads((out_dir / "bleu.json").read_text(encoding="utf-8"))
    assert got["score"] == pytest.approx(want.score, rel=1e-9, abs=1e-12)
    assert got["bp"] == pytest.approx(want.bp, rel=1e-9, abs=1e-12)
    assert got["counts"] == list(want.counts) and got["totals"] == list(want.totals)
    assert got["precisions"] == pytest.approx(list(want.precisions), rel=1e-9, abs=1e-12)
    assert (got["sys_len"], got["ref_len"]) == (want.sys_len, want.ref_len)
    assert got["documents"] == len(hyps)
    return want, hyps


def test_bleu_on_the_test_split_is_sacrebleus(run, tmp_path):
    stdout = llmlab("eval", "--checkpoint", run, "--data", run / "data", "--bleu",
                    "--bleu-prompt-tokens", "8", "--bleu-tokens", "24", "--bleu-out", tmp_path / "b")
    want, hyps = rescore(tmp_path / "b", stdout)
    assert "documents of the test split of" in stdout
    # words and phrases match, so the score is not sacrebleu's early 0 (no match at all): the
    # precisions of every order and BP all enter it
    assert all(c > 0 for c in want.counts) and want.score > 0, f"matches at too few orders: {want}"
    assert len(hyps) > 5


def test_bleu_on_text_files_and_the_validation_split_is_sacrebleus(run, tmp_path):
    stdout = llmlab("eval", "--checkpoint", run, "--data", TEXT, "--delimiter", "blank", "--bleu",
                    "--bleu-docs", "40", "--bleu-out", tmp_path / "t")
    want, hyps = rescore(tmp_path / "t", stdout)
    assert len(hyps) == 40 and "documents of 1 text file" in stdout
    stdout = llmlab("eval", "--checkpoint", run, "--data", run / "data", "--split", "val", "--bleu",
                    "--bleu-out", tmp_path / "v")
    rescore(tmp_path / "v", stdout)
    assert "of the val split of" in stdout


def test_sacrebleu_command_line_reads_the_files_the_same(run, tmp_path):
    stdout = llmlab("eval", "--checkpoint", run, "--data", run / "data", "--bleu",
                    "--bleu-prompt-tokens", "8", "--bleu-out", tmp_path / "c")
    r = subprocess.run([sys.executable, "-m", "sacrebleu", str(tmp_path / "c" / "references.txt"),
                        "-i", str(tmp_path / "c" / "hypotheses.txt"), "-m", "bleu", "-f", "text"],
                       capture_output=True, text=True, timeout=120, check=True)
    printed = [l for l in stdout.splitlines() if l.startswith("BLEU = ")][0]
    # sacrebleu's CLI prints the signature after BLEU and the score with 1 decimal less ("0.3")
    cli_line = r.stdout.strip()
    assert cli_line.split(" = ", 1)[0].startswith("BLEU|")
    assert cli_line.split(" ", 3)[3] == printed.split(" ", 3)[3]
    assert float(cli_line.split(" ")[2]) == pytest.approx(float(printed.split(" ")[2]), abs=0.051)
