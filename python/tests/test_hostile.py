"""Hostile input (issue 12, docs/hostile_input.md): the module never takes the interpreter down,
wrong arguments raise a TypeError naming them, messages use Python's names and the caller's
shapes, and the kernels treat NaN, infinities and empty rows as the reference does."""

import subprocess
import sys

import numpy as np
import pytest

import llmlab

HUGE = "np.broadcast_to(np.float32(1), (2**20, 2**20))"  # 2^40 elements: a view, 4 TiB as a copy


def run_python(code):
    """Runs code in a fresh interpreter (so a segfault fails this test instead of killing pytest)."""
    return subprocess.run([sys.executable, "-c", "import numpy as np, llmlab\n" + code],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("call", [
    f"llmlab.cuda.gelu_forward({HUGE})",
    f"llmlab.cuda.reduce_sum({HUGE})",
    f"llmlab.cuda.softmax_forward({HUGE})",
    f"llmlab.ref.softmax_forward({HUGE})",
])
def test_a_copy_too_big_for_memory_raises_memory_error_naming_function_and_size(call):
    code = f"""
try:
    {call}
except MemoryError as e:
    print("MemoryError:", e)
"""
    p = run_python(code)
    assert p.returncode == 0, f"the interpreter died ({p.returncode}): {p.stderr[-2000:]}"
    out = p.stdout
    assert "MemoryError:" in out, out + p.stderr
    fn = call.split("(")[0].rsplit(".", 1)[1]
    assert fn in out and "x of shape (1048576, 1048576)" in out and "4398046511104 bytes" in out, out


def test_vector_add_of_a_huge_broadcast_view_raises_instead_of_crashing():
    v = f"np.broadcast_to(np.float32(1), (2**40,))"
    p = run_python(f"""
try:
    llmlab.cuda.vector_add({v}, {v})
except MemoryError as e:
    print("MemoryError:", e)
""")
    assert p.returncode == 0, p.stderr[-2000:]
    assert "MemoryError: vector_add: a of shape (1099511627776) needs 4398046511104 bytes" in p.stdout


@pytest.mark.parametrize("kwargs, says", [
    (dict(x=[1.0, 2.0]), "gelu_forward: x must be a NumPy array (np.asarray(...) makes one), got list [1.0, 2.0]"),
    (dict(x=np.float32(1.0)), "gelu_forward: x must be a NumPy array (np.asarray(...) makes one), got numpy.float32 np.float32(1.0)"),
    (dict(x=None), "gelu_forward: x must be a NumPy array (np.asarray(...) makes one), got None"),
    (dict(x=np.zeros(3, np.float32), dtype=np.float32),
     'gelu_forward: dtype must be a str ("float32" or "bfloat16"), got the type numpy.float32'),
    (dict(x=np.zeros(3, np.float32), dtpye="float32"),
     "gelu_forward: no argument named dtpye=; did you mean dtype=? (gelu_forward takes x, dtype, version)"),
    (dict(x=np.zeros(3, np.float32), version=10**30),
     "gelu_forward: version must be an int within 32 bits (a kernel number; 0 = the best), got int 1000000000000000000000000000000"),
])
def test_wrong_argument_types_raise_a_type_error_naming_the_argument(kwargs, says):
    with pytest.raises(TypeError) as e:
        llmlab.cuda.gelu_forward(**kwargs)
    assert str(e.value) == says
    assert "incompatible function arguments" not in str(e.value)


def test_the_reference_names_a_plain_list_too():
    with pytest.raises(TypeError, match=r"^gelu_forward: x must be a NumPy array"):
        llmlab.ref.gelu_forward([1.0, 2.0])


def test_a_missing_argument_is_named():
    with pytest.raises(TypeError, match=r"^vector_add: missing the argument b \(a NumPy array"):
        llmlab.cuda.vector_add(np.zeros(3, np.float32))


def test_allowed_special_is_checked_and_messages_use_python_names():
    tok = llmlab.Tokenizer.train("hello world " * 50, vocab_size=300, special_tokens=["<|endoftext|>"])
    with pytest.raises(TypeError, match=r'allowed_special must be "none", "all", "plain_text" or a set '
                                        r"of special tokens, got int"):
        tok.encode("<|endoftext|>", allowed_special=5)
    with pytest.raises(llmlab.Error) as e:
        tok.encode("hi <|endoftext|>")
    assert 'allowed_special="all"' in str(e.value) and "SpecialPolicy" not in str(e.value)


def test_shapes_are_reported_as_the_caller_passed_them():
    x = np.zeros((2, 4))
    with pytest.raises(llmlab.Error) as e:
        llmlab.ref.layernorm_forward(x, np.ones(3), np.zeros(3))
    assert "x is (2, 4)" in str(e.value) and "(1, 2, 4)" not in str(e.value)


def test_a_bad_emulator_schedule_is_refused_at_once():
    with pytest.raises(ValueError, match=r"schedule: 'sideways' is not a schedule"):
        with llmlab.emu.schedule("sideways"):
            pass
    with pytest.raises(TypeError, match=r"order must be a str"):
        with llmlab.emu.schedule(3):
            pass


@pytest.mark.parametrize("version", range(llmlab.cuda.softmax_forward_versions + 1))
def test_softmax_propagates_nan_to_the_whole_row_in_every_version(version):
    x = np.array([[1.0, np.nan, 2.0], [1.0, np.inf, 2.0], [1.0, 3.0, 2.0]], np.float32)
    ref = llmlab.ref.softmax_forward(x.astype(np.float64))
    got = llmlab.cuda.softmax_forward(x, version=version)
    assert np.isnan(ref[:2]).all() and np.isfinite(ref[2]).all()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-6)


@pytest.mark.parametrize("version", range(llmlab.cuda.layernorm_forward_versions + 1))
def test_layernorm_propagates_nan_and_inf_like_the_reference(version):
    x = np.array([[1.0, np.nan, 2.0, 0.5], [1.0, np.inf, 2.0, 0.5], [1.0, 3.0, 2.0, 0.5]], np.float32)
    w, b = np.ones(4, np.float32), np.zeros(4, np.float32)
    ref = llmlab.ref.layernorm_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64))
    got = llmlab.cuda.layernorm_forward(x, w, b, version=version)
    for r, g in zip(ref, got):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(r))
        np.testing.assert_array_equal(np.isinf(g), np.isinf(r))


@pytest.mark.parametrize("version", range(llmlab.cuda.reduce_sum_versions + 1))
def test_reduce_sum_propagates_nan_and_inf_like_the_reference(version):
    x = np.array([[1.0, np.nan, 2.0], [1.0, np.inf, 2.0], [np.inf, -np.inf, 0.0], [1.0, 3.0, 2.0]],
                 np.float32)
    ref = llmlab.ref.reduce_sum(x.astype(np.float64))
    got = llmlab.cuda.reduce_sum(x, version=version)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(got[np.isinf(ref)], ref[np.isinf(ref)])


ZERO_WIDTH = {  # name → arguments with an empty last axis (rows of zero values), one per component
    "vector_add": lambda: (np.zeros(0), np.zeros(0)),
    "reduce_sum": lambda: (np.zeros((2, 0)),),
    "softmax_forward": lambda: (np.zeros((2, 0)),),
    "softmax_backward": lambda: (np.zeros((2, 0)), np.zeros((2, 0))),
    "layernorm_forward": lambda: (np.zeros((2, 0)), np.zeros(0), np.zeros(0)),
    "layernorm_backward": lambda: (np.zeros((2, 0)), np.zeros((2, 0)), np.zeros(0), np.zeros(2),
                                   np.zeros(2)),
    "gelu_forward": lambda: (np.zeros((2, 0)),),
    "gelu_backward": lambda: (np.zeros((2, 0)), np.zeros((2, 0))),
    "residual_forward": lambda: (np.zeros((2, 0)), np.zeros((2, 0))),
    "residual_backward": lambda: (np.zeros((2, 0)),),
    "matmul_forward": lambda: (np.zeros((2, 0)), np.zeros((3, 0)), np.zeros(3)),
    "matmul_backward": lambda: (np.zeros((2, 3)), np.zeros((2, 0)), np.zeros((3, 0))),
    "embedding_forward": lambda: (np.zeros((1, 2), np.int64), np.zeros((5, 0)), np.zeros((4, 0))),
}


@pytest.mark.parametrize("name", sorted(ZERO_WIDTH))
def test_zero_width_rows_agree_between_reference_and_kernels(name):
    args = ZERO_WIDTH[name]()
    outcomes = []
    for mod in (llmlab.ref, llmlab.cuda):
        call = getattr(mod, name)
        try:
            out = call(*(a.astype(np.float32) if mod is llmlab.cuda and a.dtype == np.float64 else a
                         for a in args))
            outs = out if isinstance(out, tuple) else (out,)
            outcomes.append(("returned", tuple((o.shape, o.tolist()) for o in outs)))
        except llmlab.Error:
            outcomes.append(("raised llmlab.Error", None))
    assert outcomes[0] == outcomes[1], f"reference {outcomes[0]}, kernel {outcomes[1]}"


def test_a_huge_malformed_encoder_json_is_quoted_only_in_part(tmp_path):
    # Issue 12: a malformed 876 KB encoder.json was echoed whole in the error.
    (tmp_path / "vocab.bpe").write_text("#version: 0.2\n")
    for name, text in [("truncated.json", '{"a": [' + "1, " * 300000),
                       ("bad_id.json", '{"a": [' + "1, " * 300000 + "1]}")]:
        (tmp_path / name).write_text(text)
        with pytest.raises(llmlab.Error) as e:
            llmlab.Tokenizer.from_gpt2_files(tmp_path / name, tmp_path / "vocab.bpe")
        assert len(str(e.value)) < 1000, f"{name}: {len(str(e.value))} bytes"


@pytest.mark.parametrize("call, says", [
    (lambda tok: tok.encode(123), "Tokenizer.encode: text must be a str, got int 123"),
    (lambda tok: tok.decode("abc"), "Tokenizer.decode: ids must be a list of int, got str 'abc'"),
    (lambda tok: tok.encode("hi", allowd_special="all"),
     "Tokenizer.encode: no argument named allowd_special=; did you mean allowed_special=? "
     "(Tokenizer.encode takes text, allowed_special)"),
    (lambda tok: llmlab.Tokenizer.train("x", vocab_size=10**30),
     "Tokenizer.train: vocab_size must be an int within 64 bits, got int "
     "1000000000000000000000000000000"),
    (lambda tok: llmlab.FastTokenizer.gpt2(5),
     "FastTokenizer.gpt2: tiktoken_file must be a path (str or pathlib.Path), got int 5"),
])
def test_the_tokenizers_name_a_wrong_argument_too(call, says):
    tok = llmlab.Tokenizer.train("hello world " * 20, vocab_size=270)
    with pytest.raises(TypeError) as e:
        call(tok)
    assert str(e.value) == says
