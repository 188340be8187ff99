"""llmlab.Tokenizer and llmlab.FastTokenizer: GPT-2's ids as tiktoken gives them, training,
the .tiktoken round trip, special-token policies and errors."""

import numpy as np
import pytest
import tiktoken
from tiktoken.load import load_tiktoken_bpe

import llmlab

TOKENIZERS = [llmlab.Tokenizer, llmlab.FastTokenizer]
TEXT = "Hello world! It's 2026, and   naïve café owners say 你好 <|endoftext|> bye\n\n"


@pytest.fixture(scope="module")
def tiktoken_gpt2(gpt2_vocab):
    return tiktoken.Encoding(
        "gpt2-local",
        pat_str=r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
        mergeable_ranks=load_tiktoken_bpe(str(gpt2_vocab)),
        special_tokens={"<|endoftext|>": 50256},
    )


@pytest.mark.parametrize("cls", TOKENIZERS)
def test_gpt2_ids_equal_tiktokens(cls, gpt2_vocab, tiktoken_gpt2):
    tok = cls.gpt2(str(gpt2_vocab))
    assert tok.vocab_size == 50257
    ids = tok.encode(TEXT, allowed_special="all")
    assert ids == tiktoken_gpt2.encode(TEXT, allowed_special="all")
    assert tok.decode(ids) == TEXT
    assert tok.encode_ordinary(TEXT) == tiktoken_gpt2.encode_ordinary(TEXT)


@pytest.mark.parametrize("cls", TOKENIZERS)
def test_special_policies(cls, gpt2_vocab):
    tok = cls.from_tiktoken(str(gpt2_vocab), {"<|endoftext|>": 50256})
    with pytest.raises(llmlab.Error, match="<\\|endoftext\\|>"):
        tok.encode("a<|endoftext|>b")
    assert 50256 in tok.encode("a<|endoftext|>b", allowed_special={"<|endoftext|>"})
    assert 50256 not in tok.encode("a<|endoftext|>b", allowed_special="plain_text")
    with pytest.raises(ValueError, match="not a special token"):
        tok.encode("a", allowed_special={"<|nope|>"})


def test_training_gives_the_same_merges_in_both_and_round_trips(tmp_path):
    text = "banana bandana " * 20 + "the cat sat on the mat. " * 10
    ref = llmlab.Tokenizer.train(text, 270, ["<|eot|>"])
    fast = llmlab.FastTokenizer.train([text], 270, ["<|eot|>"])
    assert ref.merges == fast.merges
    assert ref.vocab_size == 270 and ref.special_tokens == {"<|eot|>": 269}
    left, right, new = ref.merges[0]
    assert new == 256 and ref.token_bytes(new) == ref.token_bytes(left) + ref.token_bytes(right)
    ids = ref.encode(text)
    assert len(ids) < len(text.encode()) / 3  # the corpus is very repetitive
    assert ref.decode(ids) == text

    path = tmp_path / "v.tiktoken"
    ref.save(str(path))
    lines = path.read_text().splitlines()
    assert len(lines) == ref.mergeable_count and lines[256].endswith(" 256")
    again = llmlab.Tokenizer.from_tiktoken(str(path), {"<|eot|>": 269})
    assert again.encode(text) == ids
    assert load_tiktoken_bpe(str(path))[ref.token_bytes(256)] == 256  # tiktoken reads it too


def test_decode_of_a_cut_character_replaces_and_decode_bytes_keeps_it(gpt2_vocab):
    tok = llmlab.FastTokenizer.gpt2(str(gpt2_vocab))
    ids = tok.encode("你")
    assert len(ids) > 1
    assert tok.decode(ids[:1]) == "\ufffd"
    assert tok.decode_bytes(ids) == "你".encode()
    assert tok.decode(np.array(ids, dtype=np.int64)) == "你"


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(llmlab.Error, match="missing.tiktoken"):
        llmlab.Tokenizer.from_tiktoken(str(tmp_path / "missing.tiktoken"))
    with pytest.raises(llmlab.Error, match="vocab_size"):
        llmlab.Tokenizer.train("abc", 100)
    with pytest.raises(llmlab.Error):
        llmlab.Tokenizer.train("abc", 300).decode([10**6])


def bytes_to_unicode():
    """GPT-2's printable stand-ins for the 256 bytes (encoder.py's bytes_to_unicode)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


@pytest.mark.parametrize("cls", TOKENIZERS)
def test_gpt2_files_written_from_a_trained_tokenizer_load_to_the_same_tokens(cls, tmp_path):
    import json

    text = "the cat sat on the mat; the dog ate the hat. " * 30
    trained = llmlab.Tokenizer.train(text, 300)
    printable = bytes_to_unicode()
    show = lambda b: "".join(printable[c] for c in b)  # noqa: E731
    byte_order = list(printable)  # GPT-2 numbers the bytes in this order, printable ones first
    encoder = {show(bytes([b])): i for i, b in enumerate(byte_order)}
    lines = ["#version: 0.2"]
    for i, (left, right, new) in enumerate(trained.merges):
        lines.append(f"{show(trained.token_bytes(left))} {show(trained.token_bytes(right))}")
        encoder[show(trained.token_bytes(new))] = 256 + i
    encoder["<|endoftext|>"] = 256 + len(trained.merges)
    (tmp_path / "encoder.json").write_text(json.dumps(encoder, ensure_ascii=False))
    (tmp_path / "vocab.bpe").write_text("\n".join(lines) + "\n")

    tok = cls.from_gpt2_files(str(tmp_path / "encoder.json"), str(tmp_path / "vocab.bpe"))
    n = 256 + len(trained.merges)
    assert tok.vocab_size == n + 1 and tok.special_tokens == {"<|endoftext|>": n}
    sample = "the cat ate the mat"
    pieces = [tok.token_bytes(i) for i in tok.encode(sample)]
    assert pieces == [trained.token_bytes(i) for i in trained.encode(sample)]  # same tokens, other ids
    assert tok.encode("q") == [byte_order.index(ord("q"))]  # GPT-2's byte numbering, not byte values
    bad = dict(encoder)
    bad[show(trained.token_bytes(trained.merges[0][2]))] = n - 1  # disagrees with vocab.bpe's rank
    (tmp_path / "bad.json").write_text(json.dumps(bad, ensure_ascii=False))
    with pytest.raises(llmlab.Error, match="bad.json"):
        cls.from_gpt2_files(str(tmp_path / "bad.json"), str(tmp_path / "vocab.bpe"))
