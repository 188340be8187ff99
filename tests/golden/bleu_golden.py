"""sacrebleu's answers for llmlab::ref::corpus_bleu (tests/bleu_test.cpp): tests/golden/bleu/cases.json.

Run by make_golden.py's bleu() with a Python that has sacrebleu (the venv's: scripts/requirements.txt),
or directly:  .venv/bin/python tests/golden/bleu_golden.py

Each case is a corpus (hypotheses, one reference each) scored by `sacrebleu.corpus_bleu(hyps, [refs])`
with its defaults (tokenizer 13a, smoothing exp, n-grams up to 4, no effective order), with the
score's statistics, its printed line, and sacrebleu's 13a tokenization of every hypothesis (the
tokenizer alone, without BLEU's rstrip before it). Also: every code point Python's str.isspace() accepts (what split and rstrip cut at).
"""

import json
import sys
from pathlib import Path

import numpy as np
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

OUT = Path(__file__).resolve().parent / "bleu" / "cases.json"


def long_corpus(n: int = 80) -> tuple:
    """n reference sentences of words, numbers and punctuation (NumPy seed 2026), and hypotheses
    that drop, swap and replace some of their words."""
    rng = np.random.default_rng(2026)
    words = ["the", "a", "cat", "dog", "sat", "on", "mat", "and", "ran", "far", "away", "model",
             "loss", "fell", "to", "3.14", "1,000", "well-known", "it's", "(yes)", "\"no\"", "end.",
             "well,", "U.S.A.", "e-mail", "10-20", "café", "naïve", "&amp;", "&quot;x&quot;", "—"]
    refs, hyps = [], []
    for _ in range(n):
        ref = [words[i] for i in rng.integers(0, len(words), rng.integers(3, 25))]
        hyp = []
        for w in ref:
            r = rng.random()
            if r < 0.1:
                continue  # dropped
            hyp.append(words[rng.integers(0, len(words))] if r < 0.3 else w)
            if r > 0.95:
                hyp.append(w)  # repeated: clipped counts
        if rng.random() < 0.2 and len(hyp) > 2:
            hyp[0], hyp[1] = hyp[1], hyp[0]
        refs.append(" ".join(ref) + (" ." if rng.random() < 0.3 else ""))
        hyps.append(" ".join(hyp))
    return hyps, refs


CASES = {
    "identical": (["The cat sat on the mat."], ["The cat sat on the mat."]),
    "classic": (["the cat sat on the mat"], ["the cat is on the mat"]),
    "punctuation": (["Hello, world! It's a test: (yes) [no] {maybe} \"quoted\"; done? ~x^y_z|w@v#u$t%s&r*q+p=o<n>m/l\\k`j"],
                    ["Hello, world! It is a test: (yes) [no] {maybe} \"quoted\"; done. ~x^y_z|w@v#u$t%s&r*q+p=o<n>m/l\\k`j"]),
    "numbers": (["It costs $1,000.50, or 3.14 per item; 1,2,3 and 10-20 pages, .5 or 5. or a.b or U.S.A. 1.5,2"],
                ["It costs $1,000.50 or 3.14 per item: 1,2,3 and 10 - 20 pages, 0.5 or 5. or a.b or U.S.A. 1.5,2"]),
    "dashes": (["a well-known state-of-the-art result - 5-4 -- done; pre-\nfix and --x 3--4 -7"],
               ["a well known state-of-the-art result — 5-4 -- done; prefix and --x 3--4 -7"]),
    "html_entities": (["&quot;Hi&quot; &amp; bye &lt;tag&gt; &amp;quot; &apos; &#39; & alone &AMP;"],
                      ["\"Hi\" & bye <tag> &quot; ' ' & alone &AMP;"]),
    "skipped_and_newlines": (["one <skipped> two\nthree\r\nfour\tfive  six   "],
                             ["one two three four five six"]),
    "non_ascii": (["café naïve “quotes” ½ 日本語。 🙂 emoji\u00a0nbsp\u3000ideographic\u2028sep end\u0085",
                   "Zürich, Köln. Ελληνικά; русский: текст!\x1cfs\x1dgs\x1eus\x1fus"],
                  ["café naive “quotes” ½ 日本語 。 🙂 emoji nbsp ideographic sep end",
                   "Zurich, Köln. Ελληνικά; русский: текст! fs gs us us"]),
    "empty_hypothesis": (["", "the cat sat on the mat", "   "],
                         ["a dog ran", "the cat sat on a mat", "nothing here"]),
    "all_empty_hypotheses": (["", ""], ["a reference", "another one"]),
    "empty_everything": ([""], [""]),
    "no_match_at_order_3": (["on the cat the mat"], ["the cat sat on the mat"]),
    "no_match_at_all": (["alpha beta gamma delta"], ["one two three four"]),
    "short_hypothesis": (["the cat sat on the"], ["the cat sat on the mat today"]),
    "short_of_4_grams": (["the cat sat"], ["the cat sat on the mat today"]),
    "shorter_than_4_tokens": (["the cat"], ["the cat"]),
    "longer_hypothesis": (["the cat the cat the cat sat on the mat on the mat"], ["the cat sat on the mat"]),
    "clipped_repeats": (["the the the the the the the"], ["the cat is on the mat"]),
    "long_corpus": long_corpus(),
}


def main() -> None:
    tok = Tokenizer13a()
    cases = []
    for name, (hyps, refs) in CASES.items():
        s = sacrebleu.corpus_bleu(hyps, [refs])
        cases.append({"name": name, "hypotheses": hyps, "references": refs,
                      "tokenized": [tok(h) for h in hyps],
                      "score": s.score, "counts": list(s.counts), "totals": list(s.totals),
                      "precisions": list(s.precisions), "bp": s.bp, "sys_len": s.sys_len,
                      "ref_len": s.ref_len, "line": str(s)})
    isspace = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"sacrebleu": sacrebleu.__version__, "python_isspace": isspace,
                               "cases": cases}, ensure_ascii=True, indent=1) + "\n")
    print(f"{len(cases)} BLEU cases (sacrebleu {sacrebleu.__version__}) written to {OUT}")


if __name__ == "__main__":
    main()
