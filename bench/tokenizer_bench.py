#!/usr/bin/env python3
"""Tokenizer benchmark: llmlab's fast and reference tokenizers against tiktoken and Hugging Face
tokenizers, timed in the same run on the same machine.

    .venv/bin/python bench/tokenizer_bench.py [--build-dir build/default] [--encode-mb 4]
                                              [--train-mb 100] [--vocab-size 32000] [--skip-train]

What it measures (MB = 10^6 bytes):

1. Encoding GPT-2 (vocab/gpt2.tiktoken, scripts/setup.sh gets it) on a few MB of real text
   installed on every Debian machine: the common licenses and packages' copyright files (English),
   C++ headers and Python sources (code). llmlab fast on one thread (encode_ordinary) and on all
   threads (encode_parallel); the reference on its first MB; tiktoken (an Encoding built from the
   same file with GPT-2's pattern, no network) on one thread (encode_ordinary) and on all threads
   (encode_ordinary_batch over ~64 KB line-aligned chunks). The ids of llmlab fast and tiktoken are
   checked equal (FNV-1a hash of the whole id list).
2. Worst cases: one character repeated 1 MiB (x, ^, spaces, newlines) — one pre-token as long as
   the input; a quadratic merge loop would take minutes.
3. Training a 32k vocabulary on ~100 MB (copyright files and other docs, headers, Python; duplicate
   files dropped): llmlab fast trainer vs Hugging Face tokenizers' BpeTrainer with its byte-level
   GPT-2 pre-tokenizer (both use all threads).

Goals (issue 3): fast >= 25 MB/s on one thread and >= 2x tiktoken; worst cases < 100 ms;
reference >= 1 MB/s; trainer no slower than Hugging Face.
"""

import argparse
import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def real_text(limit, kinds):
    """Up to `limit` bytes from the file lists in `kinds`, an equal share from each, in sorted
    order, each distinct file once; only files that are valid UTF-8 (no binary files, and
    Hugging Face's trainer and tiktoken take text)."""
    seen, parts, total = set(), [], 0
    for i, patterns in enumerate(kinds):
        stop = limit * (i + 1) // len(kinds)
        files = sorted({f for p in patterns for f in glob.glob(p, recursive=True)})
        for f in files:
            if total >= stop:
                break
            if not os.path.isfile(f) or os.path.islink(f) or f.endswith(".gz"):
                continue
            try:
                with open(f, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            if b"\0" in data[:4096]:
                continue
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            digest = hashlib.sha1(data).digest()
            if digest in seen:
                continue
            seen.add(digest)
            if total + len(data) > stop:  # cut the last file at a line break (valid UTF-8)
                data = data[: data.rfind(b"\n", 0, stop - total) + 1]
            parts.append(data)
            total += len(data)
    return b"".join(parts)


ENGLISH = ["/usr/share/common-licenses/*", "/usr/share/doc/*/copyright"]
CPP = ["/usr/include/c++/**/*"]
PYTHON = ["/usr/lib/python3*/**/*.py"]
TRAIN = [["/usr/share/doc/**/*", "/usr/share/**/*.txt"], ["/usr/include/**/*"], PYTHON]


def fnv1a(ids):
    """The same hash as tokenizer_bench_cli: FNV-1a over the ids as little-endian uint32."""
    h = 0xCBF29CE484222325
    for b in memoryview(bytearray(b"".join(i.to_bytes(4, "little") for i in ids))):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def best_of(repeat, f):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def cli(build_dir, *args):
    exe = os.path.join(build_dir, "bench", "tokenizer_bench_cli")
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: build first (cmake --build --preset default)")
    out = subprocess.run([exe, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def tiktoken_gpt2(vocab):
    import tiktoken

    ranks = {}
    with open(vocab, "rb") as fh:
        for line in fh:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(name="gpt2_local", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                             special_tokens={"<|endoftext|>": 50256})


def line_chunks(text, size):
    """`text` cut after line breaks into chunks of about `size` characters."""
    chunks, start = [], 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end < 0 else end + 1
        chunks.append(text[start:end])
        start = end
    return chunks


def bench_encode(args, workdir):
    data = real_text(int(args.encode_mb * 1e6), [ENGLISH, CPP, PYTHON])
    path = os.path.join(workdir, "encode.txt")
    with open(path, "wb") as fh:
        fh.write(data)
    ours = cli(args.build_dir, "encode", "--vocab", args.vocab, "--input", path,
               "--reference-bytes", str(int(args.reference_mb * 1e6)))
    enc = tiktoken_gpt2(args.vocab)
    text = data.decode("utf-8")  # the corpus is valid UTF-8 (tiktoken takes str)
    t1, ids = best_of(3, lambda: enc.encode_ordinary(text))
    chunks = line_chunks(text, 1 << 16)
    threads = os.cpu_count() or 1
    tn, _ = best_of(3, lambda: enc.encode_ordinary_batch(chunks, num_threads=threads))
    same = fnv1a(ids) == ours["ids_fnv1a"] and len(ids) == ours["tokens"]
    return {
        "bytes": len(data),
        "tokens": len(ids),
        "ids_equal_tiktoken": same,
        "threads": threads,
        "llmlab_fast_1thread_mbps": ours["fast_1thread_mbps"],
        "llmlab_fast_all_threads_mbps": ours["fast_all_threads_mbps"],
        "llmlab_reference_mbps": ours["reference_mbps"],
        "llmlab_reference_bytes": ours["reference_bytes"],
        "llmlab_reference_equals_fast": ours["reference_equals_fast"],
        "tiktoken_1thread_mbps": len(data) / t1 / 1e6,
        "tiktoken_all_threads_mbps": len(data) / tn / 1e6,
    }


def bench_worst(args):
    ours = cli(args.build_dir, "worst", "--vocab", args.vocab, "--bytes", str(1 << 20))
    enc = tiktoken_gpt2(args.vocab)
    out = {}
    for name, c in [("x", "x"), ("caret", "^"), ("spaces", " "), ("newlines", "\n")]:
        out[name] = {"llmlab_fast_ms": ours[name]["ms"]}
        try:
            t, ids = best_of(1, lambda: enc.encode_ordinary(c * (1 << 20)))
            out[name].update(tiktoken_ms=t * 1e3, ids_equal_tiktoken=fnv1a(ids) == ours[name]["ids_fnv1a"])
        except BaseException as err:  # tiktoken's regex can overflow its stack (a Rust panic)
            if isinstance(err, KeyboardInterrupt):
                raise
            out[name].update(tiktoken_ms=None, tiktoken_error=f"{type(err).__name__}: {err}")
    return out


def bench_train(args, workdir):
    data = real_text(int(args.train_mb * 1e6), TRAIN)
    path = os.path.join(workdir, "train.txt")
    with open(path, "wb") as fh:
        fh.write(data)
    del data
    ours = cli(args.build_dir, "train", "--input", path, "--vocab-size", str(args.vocab_size))

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=args.vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    t0 = time.perf_counter()
    tok.train([path], trainer)
    hf = time.perf_counter() - t0
    return {"bytes": ours["bytes"], "vocab_size": args.vocab_size, "llmlab_fast_s": ours["seconds"],
            "llmlab_merges": ours["merges"], "hf_tokenizers_s": hf,
            "hf_vocab_size": tok.get_vocab_size(), "threads": ours["threads"]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build", "default"))
    p.add_argument("--vocab", default=os.path.join(ROOT, "vocab", "gpt2.tiktoken"))
    p.add_argument("--encode-mb", type=float, default=4)
    p.add_argument("--reference-mb", type=float, default=1)
    p.add_argument("--train-mb", type=float, default=100)
    p.add_argument("--vocab-size", type=int, default=32000)
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    if not os.path.exists(args.vocab):
        sys.exit(f"{args.vocab} not found: run scripts/setup.sh")

    results = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="llmlab_tokbench_") as workdir:
        e = results["encode"] = bench_encode(args, workdir)
        print(f"encode {e['bytes'] / 1e6:.1f} MB of English + code ({e['tokens']} tokens, "
              f"ids equal tiktoken: {e['ids_equal_tiktoken']})")
        print(f"  llmlab fast, 1 thread     {e['llmlab_fast_1thread_mbps']:8.1f} MB/s   "
              f"{e['llmlab_fast_1thread_mbps'] / e['tiktoken_1thread_mbps']:.1f}x tiktoken")
        print(f"  llmlab fast, {e['threads']} threads    {e['llmlab_fast_all_threads_mbps']:8.1f} MB/s   "
              f"{e['llmlab_fast_all_threads_mbps'] / e['tiktoken_all_threads_mbps']:.1f}x tiktoken")
        print(f"  tiktoken, 1 thread        {e['tiktoken_1thread_mbps']:8.1f} MB/s")
        print(f"  tiktoken, {e['threads']} threads       {e['tiktoken_all_threads_mbps']:8.1f} MB/s")
        print(f"  llmlab reference          {e['llmlab_reference_mbps']:8.2f} MB/s "
              f"(first {e['llmlab_reference_bytes'] / 1e6:.1f} MB, equals fast: "
              f"{e['llmlab_reference_equals_fast']})")
        w = results["worst"] = bench_worst(args)
        print("worst cases, 1 MiB of one character (one pre-token):")
        for name, r in w.items():
            theirs = (f"tiktoken {r['tiktoken_ms']:8.1f} ms   ids equal: {r['ids_equal_tiktoken']}"
                      if r["tiktoken_ms"] is not None else f"tiktoken failed ({r['tiktoken_error']})")
            print(f"  {name:9s} llmlab fast {r['llmlab_fast_ms']:7.1f} ms   {theirs}")
        if not args.skip_train:
            t = results["train"] = bench_train(args, workdir)
            print(f"train {t['vocab_size']} tokens on {t['bytes'] / 1e6:.0f} MB ({t['threads']} threads):")
            print(f"  llmlab fast trainer       {t['llmlab_fast_s']:8.2f} s")
            print(f"  Hugging Face tokenizers   {t['hf_tokenizers_s']:8.2f} s   "
                  f"({t['hf_tokenizers_s'] / t['llmlab_fast_s']:.1f}x llmlab's time)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
